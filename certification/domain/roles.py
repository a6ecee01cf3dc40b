"""Granting and revoking roles. Groups (and, in the workflow, object permissions) follow the grants."""

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.models import ROLE_SCOPE, Role, RoleGrant

from . import audit
from .errors import InvalidInput


def _sync_group(user, role):
    group, _created = Group.objects.get_or_create(name=role)
    if RoleGrant.objects.active().filter(user=user, role=role).exists():
        user.groups.add(group)
    else:
        user.groups.remove(group)


def grant_role(user, role, *, cluster=None, region=None, by=None):
    """Give `user` `role` within a cluster or region. Idempotent. Side effects: group membership, audit row."""
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
        audit.record(
            "role.granted",
            actor=by,
            obj=grant,
            payload={"user": user.pk, "role": role, "scope": str(cluster or region or "")},
        )
    return grant


def revoke_role(grant, *, by=None):
    """End a grant. The user loses the access it gave on their next request. Side effects: group, audit row."""
    with transaction.atomic():
        grant = RoleGrant.objects.select_for_update().get(pk=grant.pk)
        if grant.revoked is not None:
            return grant
        grant.revoked = timezone.now()
        grant.save(update_fields=["revoked"])
        _sync_group(grant.user, grant.role)
        audit.record("role.revoked", actor=by, obj=grant, payload={"user": grant.user_id, "role": grant.role})
    return grant


def scope_label(role):
    scope = ROLE_SCOPE[Role(role)]
    return {"cluster": _("cluster"), "district": _("district"), "city": _("city")}.get(scope, "")
