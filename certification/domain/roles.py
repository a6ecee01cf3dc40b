"""Granting and revoking roles, and the permissions that follow from them.

A role is a Django group (named by the role's value, e.g. ``district_office``) carrying model-wide permissions
that say nothing about scope: the right to see the certification process at all, and for leads the right to open
an application. Scope is django-guardian object permissions on each Application, computed from the active
RoleGrants and evaluator assignments by `sync_object_permissions` — the one rule, used by every domain function
that changes a grant or an assignment and by ``manage.py sync_roles``. Nothing grants a permission by hand.
"""

from collections import defaultdict

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.models import UserObjectPermission

from certification import permission_cache
from certification.errors import InvalidInput
from certification.models import (
    ROLE_APPLICATION_PATH,
    ROLE_SCOPE,
    Application,
    EvaluatorAssignment,
    Role,
    RoleGrant,
    User,
    scope_object_id,
)
from certification.scope import OBJECT_PERMISSIONS, ROLE_OBJECT_PERMISSION, VIEW_APPLICATION

from . import audit

# Model-wide permissions of each role's group. None of them names an application: scope is per object.
_SEE_PROCESS = "workflows.view_certificationprocess"
ROLE_GROUP_PERMISSIONS = {
    Role.LEAD: [_SEE_PROCESS, "certification.add_application"],
    Role.DISTRICT_OFFICE: [_SEE_PROCESS],
    Role.EVALUATOR: [_SEE_PROCESS],
    Role.DISTRICT_LEADER: [_SEE_PROCESS],
    Role.CITY_OFFICE: [_SEE_PROCESS],
    Role.CITY_LEADER: [_SEE_PROCESS],
    Role.ADMINISTRATOR: [_SEE_PROCESS, "certification.view_application"],
}


def _permission(full_name):
    app_label, codename = full_name.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def ensure_groups():
    """Create the role groups with exactly their model-wide permissions. Idempotent."""
    groups = {}
    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        group.permissions.set([_permission(name) for name in ROLE_GROUP_PERMISSIONS[role]])
        groups[role] = group
    return groups


def _sync_group(user, role):
    group, created = Group.objects.get_or_create(name=role)
    if created:
        group.permissions.set([_permission(name) for name in ROLE_GROUP_PERMISSIONS[Role(role)]])
    if RoleGrant.objects.active().filter(user=user, role=role).exists():
        user.groups.add(group)
    else:
        user.groups.remove(group)


def desired_object_permissions(applications=None, users=None):
    """The set of (user id, codename, application id) the grants and assignments call for.

    The scope rule of `certification.scope` (ROLE_APPLICATION_PATH): leads their cluster's applications, district
    office and leader their district's, city office and leader their city's; evaluators (holding the evaluator
    role) the applications of their active assignments.
    Restricted to `applications` and/or `users` (querysets or lists) when given.
    """
    apps = Application.objects.all() if applications is None else applications
    if not isinstance(apps, list):
        apps = list(apps.select_related("cluster__district"))
    grants = RoleGrant.objects.active().filter(user__is_active=True).exclude(role=Role.ADMINISTRATOR)
    if users is not None:
        grants = grants.filter(user__in=users)
    by_scope = defaultdict(set)
    evaluators = set()
    for user_id, role, cluster_id, region_id in grants.values_list("user_id", "role", "cluster_id", "region_id"):
        if role == Role.EVALUATOR:
            evaluators.add(user_id)
        else:
            by_scope[(role, cluster_id or region_id)].add(user_id)
    assignments = defaultdict(set)
    active = EvaluatorAssignment.objects.filter(
        status=EvaluatorAssignment.Status.ACTIVE, application__in=[a.pk for a in apps], evaluator__in=evaluators
    )
    for application_id, evaluator_id in active.values_list("application_id", "evaluator_id"):
        assignments[application_id].add(evaluator_id)

    desired = set()
    for application in apps:
        holders = {role: by_scope[(role, scope_object_id(role, application))] for role in ROLE_APPLICATION_PATH}
        holders[Role.EVALUATOR] = assignments[application.pk]
        for role, user_ids in holders.items():
            for user_id in user_ids:
                desired.add((user_id, VIEW_APPLICATION, application.pk))
                desired.add((user_id, ROLE_OBJECT_PERMISSION[role], application.pk))
    return desired


def sync_object_permissions(applications=None, users=None):
    """Make the guardian object permissions on applications match `desired_object_permissions`.

    Restricted to the given applications and/or users. Returns (added, removed) counts. Idempotent.
    """
    content_type = ContentType.objects.get_for_model(Application)
    permissions = {
        p.codename: p for p in Permission.objects.filter(content_type=content_type, codename__in=OBJECT_PERMISSIONS)
    }
    codename_of = {p.pk: codename for codename, p in permissions.items()}
    if applications is not None and not isinstance(applications, list):
        applications = list(applications.select_related("cluster__district"))
    desired = desired_object_permissions(applications, users)

    existing_rows = UserObjectPermission.objects.filter(content_type=content_type, permission__in=permissions.values())
    if applications is not None:
        existing_rows = existing_rows.filter(object_pk__in=[str(a.pk) for a in applications])
    if users is not None:
        existing_rows = existing_rows.filter(user__in=users)
    existing = {}
    for pk, user_id, permission_id, object_pk in existing_rows.values_list(
        "pk", "user_id", "permission_id", "object_pk"
    ):
        existing[(user_id, codename_of[permission_id], int(object_pk))] = pk

    stale = [pk for key, pk in existing.items() if key not in desired]
    missing = [key for key in desired if key not in existing]
    with transaction.atomic():
        if stale:
            UserObjectPermission.objects.filter(pk__in=stale).delete()
        UserObjectPermission.objects.bulk_create(
            UserObjectPermission(
                user_id=user_id,
                permission=permissions[codename],
                content_type=content_type,
                object_pk=str(application_id),
            )
            for user_id, codename, application_id in missing
        )
    # bulk_create sends no signal: the request's permission cache must not answer from before the sync.
    permission_cache.forget()
    return len(missing), len(stale)


def grant_role(user, role, *, cluster=None, region=None, by=None):
    """Give `user` `role` within a cluster or region. Idempotent.

    Side effects: group membership, object permissions on the applications in scope, audit row.
    """
    role = Role(role)
    grant = RoleGrant(user=user, role=role, cluster=cluster, region=region)
    try:
        grant.clean()
    except Exception as error:
        raise InvalidInput("; ".join(getattr(error, "messages", [str(error)]))) from None
    with transaction.atomic():
        existing = RoleGrant.objects.active().filter(user=user, role=role, cluster=cluster, region=region).first()
        if existing is not None:
            return existing
        grant.save()
        _sync_group(user, role)
        sync_object_permissions(users=[user])
        audit.record(
            "role.granted",
            actor=by,
            obj=grant,
            to_state="granted",
            payload={"user": user.pk, "role": role, "scope": str(cluster or region or "")},
        )
    return grant


def revoke_role(grant, *, by=None):
    """End a grant. The user loses the access it gave on their next request.

    Side effects: group membership, object permissions recomputed for the user, audit row.
    """
    with transaction.atomic():
        grant = RoleGrant.objects.select_for_update().get(pk=grant.pk)
        if grant.revoked is not None:
            return grant
        grant.revoked = timezone.now()
        grant.save(update_fields=["revoked"])
        _sync_group(grant.user, grant.role)
        sync_object_permissions(users=[grant.user])
        audit.record(
            "role.revoked",
            actor=by,
            obj=grant,
            from_state="granted",
            to_state="revoked",
            payload={"user": grant.user_id, "role": grant.role},
        )
    return grant


def sync_roles():
    """Recompute every role group and every application object permission from the grants. Idempotent.

    Returns a summary: groups, memberships added and removed, object permissions added and removed.
    """
    with transaction.atomic():
        groups = ensure_groups()
        holders = defaultdict(set)
        for user_id, role in RoleGrant.objects.active().values_list("user_id", "role"):
            holders[role].add(user_id)
        memberships_added = memberships_removed = 0
        for role, group in groups.items():
            current = set(group.user_set.values_list("pk", flat=True))
            wanted = holders[role.value]
            to_add, to_remove = wanted - current, current - wanted
            if to_add:
                group.user_set.add(*User.objects.filter(pk__in=to_add))
            if to_remove:
                group.user_set.remove(*User.objects.filter(pk__in=to_remove))
            memberships_added += len(to_add)
            memberships_removed += len(to_remove)
        added, removed = sync_object_permissions()
    return {
        "groups": len(groups),
        "memberships_added": memberships_added,
        "memberships_removed": memberships_removed,
        "permissions_added": added,
        "permissions_removed": removed,
    }


def holds_role(user, role, *, cluster=None, region=None):
    """Whether `user` holds an active grant of `role` (within the cluster or region, when given)."""
    grants = RoleGrant.objects.active().filter(user=user, role=role, user__is_active=True)
    if cluster is not None:
        grants = grants.filter(cluster=cluster)
    if region is not None:
        grants = grants.filter(region=region)
    return grants.exists()


def scope_label(role):
    scope = ROLE_SCOPE[Role(role)]
    return {"cluster": _("cluster"), "district": _("district"), "city": _("city")}.get(scope, "")
