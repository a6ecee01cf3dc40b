"""Object permissions asked once per request: a transition checks the same permission in the workflow node and in
the domain step, on two instances of the same application; guardian's backend builds a new checker (two queries)
for each question.

`PermissionCacheMiddleware` opens a cache for the duration of one request; `CachedObjectPermissionBackend` (in
AUTHENTICATION_BACKENDS in place of guardian's) answers from it: the first question about an object reads the
user's permissions on it, from their own grants and their groups', in one query; later questions about the same
object (any instance of it) are answered from memory. Outside a request (tests, Celery, commands) nothing is
cached. Any change to object permissions or group membership during the request empties the cache
(`forget`, called by the signal handlers below and by `certification.domain.roles` after its bulk writes).
"""

from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from guardian.backends import ObjectPermissionBackend, check_support
from guardian.models import GroupObjectPermission, UserObjectPermission

from certification.prepared import PreparedRead

# {(user id, content type id, object pk): frozenset of codenames, or a `memo` key: its value}; None outside a request.
_cache = ContextVar("object_permission_cache", default=None)


def forget():
    """Empty the current request's cache (permissions or group membership changed)."""
    cache = _cache.get()
    if cache is not None:
        cache.clear()


def memo(key, compute):
    """`compute()` once per request for `key` (emptied with the rest by `forget`); outside a request, every time."""
    cache = _cache.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


class PermissionCacheMiddleware:
    """One object-permission cache per request (place it after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _cache.set({})
        try:
            return self.get_response(request)
        finally:
            _cache.reset(token)


def _codenames_query(user_id, content_type_id, object_pk):
    # An `EXISTS` per permission of the model on guardian's (user, permission, object) index: the same rule as
    # left-joining both grant tables under an OR, which PostgreSQL could only answer by scanning every grant of the
    # model (37 ms with 110,000 grants; this 0.2 ms).
    own = UserObjectPermission.objects.filter(permission=OuterRef("pk"), user_id=user_id, object_pk=object_pk)
    groups = GroupObjectPermission.objects.filter(permission=OuterRef("pk"), group__user=user_id, object_pk=object_pk)
    return (
        Permission.objects.filter(content_type_id=content_type_id)
        .filter(Exists(own) | Exists(groups))
        .order_by()
        .values_list("codename")
    )


# Asked on every task request: compiled once (certification.prepared).
_CODENAMES = PreparedRead(_codenames_query, user_id=-7_000_001, content_type_id=-7_000_002, object_pk="\x00object")


def _codenames(user, content_type, object_pk):
    """The codenames `user` holds on one object, directly or through a group: one query."""
    rows = _CODENAMES(user_id=user.pk, content_type_id=content_type.pk, object_pk=object_pk)
    return frozenset(codename for (codename,) in rows)


class CachedObjectPermissionBackend(ObjectPermissionBackend):
    """guardian's object-permission backend, answering from the request's cache when there is one."""

    def has_perm(self, user_obj, perm, obj=None):
        cache = _cache.get()
        if cache is None or obj is None:
            return super().has_perm(user_obj, perm, obj)
        support, user_obj = check_support(user_obj, obj)
        if not support:
            return False
        if not user_obj.is_active:
            return False
        if user_obj.is_superuser:
            return True
        content_type = ContentType.objects.get_for_model(obj)
        app_label, _dot, codename = perm.rpartition(".")
        if app_label and app_label != content_type.app_label:
            return super().has_perm(user_obj, perm, obj)  # guardian's own refusal (WrongAppError)
        key = (user_obj.pk, content_type.pk, str(obj.pk))
        codenames = cache.get(key)
        if codenames is None:
            codenames = cache[key] = _codenames(user_obj, content_type, str(obj.pk))
        return codename in codenames


def _model_permissions_query(permissions):
    return permissions.values_list("content_type__app_label", "codename").order_by().distinct()


# Asked on every request that checks a model-wide permission (the site's menu, viewflow's app): compiled once.
_MODEL_PERMISSIONS = PreparedRead(
    lambda user_id: _model_permissions_query(Permission.objects.filter(Q(user=user_id) | Q(group__user=user_id))),
    user_id=-7_000_001,
)


class OneQueryModelBackend(ModelBackend):
    """Django's ModelBackend, reading a user's model-wide permissions (their own and their groups') in one query
    instead of two; cached on the user object for the request, as Django's is."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = _model_permissions_query(Permission.objects.all())
            else:
                rows = _MODEL_PERMISSIONS(user_id=user_obj.pk)
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache


def _forget_on_change(sender, **kwargs):
    forget()


for _model in (UserObjectPermission, GroupObjectPermission):
    post_save.connect(_forget_on_change, sender=_model, dispatch_uid=f"permission_cache_{_model.__name__}_save")
    post_delete.connect(_forget_on_change, sender=_model, dispatch_uid=f"permission_cache_{_model.__name__}_delete")
m2m_changed.connect(
    _forget_on_change, sender=get_user_model().groups.through, dispatch_uid="permission_cache_groups_changed"
)
