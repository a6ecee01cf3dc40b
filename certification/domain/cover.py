"""Out-of-office cover: a person records an absence and names a substitute who holds the same roles in the same
scopes. While it lasts, the tasks the flow would give them go to the substitute (the flow's task nodes ask
`substitute_for`), and their open tasks can be handed over in one action (`workflows.handover.hand_over_open_tasks`).
"""

import datetime
from functools import partial

from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import ROLE_APPLICATION_PATH, Absence, Application, Role, RoleGrant, grant_scope_field
from certification.prepared import PreparedRead
from certification.scope import holders_of

from . import audit
from .notify import notify


def scoped_grants(user):
    """The user's active grants of a role with a scope (cluster, district, city): what a substitute must also hold."""
    return list(
        RoleGrant.objects.active()
        .filter(user=user, role__in=list(ROLE_APPLICATION_PATH))
        .select_related("cluster", "region")
        .order_by("role", "pk")
    )


def missing_cover(user, substitute):
    """The grants of `user` that `substitute` does not hold (same role, same cluster or region), as a list."""
    held = set(RoleGrant.objects.active().filter(user=substitute).values_list("role", "cluster_id", "region_id"))
    return [grant for grant in scoped_grants(user) if (grant.role, grant.cluster_id, grant.region_id) not in held]


def current_absence(user, when=None):
    """The absence of `user` in force now (or at `when`), or None."""
    if user is None:
        return None
    return Absence.objects.current(when).filter(user=user).select_related("substitute").order_by("-starts").first()


def substitute_for(user, when=None):
    """(absence, substitute) when `user` is away now and their substitute is present and active; else (None, None).

    A substitute who is away too is not followed further: the task then stays with `user` (or in the queue).
    """
    if user is None:
        return None, None
    absence = current_absence(user, when)
    if absence is None or not absence.substitute.is_active or current_absence(absence.substitute, when) is not None:
        return None, None
    return absence, absence.substitute


def _away_holders_query(role, application_pk, day):
    # The grants covering the application are a subquery on the application's own row: not even its cluster needs
    # to be loaded.
    scope = Application.objects.filter(pk=application_pk).values(ROLE_APPLICATION_PATH[role])[:1]
    grants = RoleGrant.objects.active().filter(role=role, **{f"{grant_scope_field(role)}_id": Subquery(scope)})
    return (
        Absence.objects.on(day)
        .filter(user__in=grants.values("user"), user__is_active=True)
        .order_by()
        .values_list("pk")
    )


# Asked as every task for a role's queue opens (`substitute_among_holders`): compiled once per role
# (certification.prepared).
_AWAY_HOLDERS = {
    role: PreparedRead(partial(_away_holders_query, role), application_pk=-7_000_001, day=datetime.date(1901, 2, 3))
    for role in ROLE_APPLICATION_PATH
}


def substitute_among_holders(role, application, when=None):
    """(absence, substitute) when, of the people holding `role` (granted on a cluster or region) over
    `application`, some are away and exactly one is present and named as substitute by one of them; else
    (None, None).

    A task the flow would leave in the role's queue (several holders) then goes straight to the substitute.
    """
    # One statement, compiled once, when nobody is away (every task creation asks this).
    day = timezone.localdate(when) if when is not None else timezone.localdate()
    if not _AWAY_HOLDERS[Role(role)](application_pk=application.pk, day=day):
        return None, None
    (holders,) = holders_of([role], application)
    away = {
        a.user_id: a
        for a in Absence.objects.current(when)
        .filter(user_id__in=[user.pk for user in holders])
        .order_by("starts", "pk")
    }
    present = [user for user in holders if user.pk not in away]
    if len(present) != 1:
        return None, None
    absence = next((a for a in away.values() if a.substitute_id == present[0].pk), None)
    return (absence, present[0]) if absence is not None else (None, None)


def record_absence(user, starts, ends, substitute, reason, *, by):
    """`user` records that they will be away from `starts` to `ends` (both included), covered by `substitute`.

    Refused unless `by` is the user, the period is valid and not past, no other absence of theirs overlaps, and the
    substitute holds every scoped role of the user in the same cluster or region. Side effects: the Absence row,
    an audit row, a notification to the substitute.
    """
    reason = (reason or "").strip()
    if by is None or by.pk != user.pk:
        raise NotAllowed(_("Only the person who will be away records their absence."))
    if not reason:
        raise InvalidInput(_("Give the reason for the absence."))
    if starts is None or ends is None or ends < starts:
        raise InvalidInput(_("The last day away must not be before the first."))
    if ends < timezone.localdate():
        raise InvalidInput(_("This absence is already over."))
    if substitute is None or substitute.pk == user.pk or not substitute.is_active:
        raise InvalidInput(_("Choose an active colleague other than yourself as the substitute."))
    grants = scoped_grants(user)
    if not grants:
        raise NotAllowed(
            _(
                "Only a lead, an office or a leader can be covered; an evaluator recuses instead, so the office "
                "names a replacement."
            )
        )
    missing = missing_cover(user, substitute)
    if missing:
        raise NotAllowed(
            _("%(name)s cannot substitute for you: they do not hold %(roles)s.")
            % {"name": substitute, "roles": "、".join(str(grant_label(grant)) for grant in missing)}
        )
    with transaction.atomic():
        overlapping = (
            Absence.objects.select_for_update()
            .filter(user=user, cancelled__isnull=True, starts__lte=ends, ends__gte=starts)
            .exists()
        )
        if overlapping:
            raise IllegalTransition(_("You have already recorded an absence in this period."))
        absence = Absence.objects.create(user=user, starts=starts, ends=ends, substitute=substitute, reason=reason)
        audit.record(
            "absence.recorded",
            actor=by,
            obj=absence,
            to_state="recorded",
            reason=reason,
            payload={"user": user.pk, "substitute": substitute.pk, "starts": starts, "ends": ends},
        )
        notify(
            [substitute],
            _("You cover for %(name)s from %(starts)s to %(ends)s") % {"name": user, "starts": starts, "ends": ends},
            _("While %(name)s is away, their new tasks come to you. Reason: %(reason)s")
            % {"name": user, "reason": reason},
        )
    return absence


def cancel_absence(absence, *, by):
    """The absent person ends their absence early (or cancels it). Side effects: `cancelled` set, audit row,
    a notification to the substitute. Tasks already handed over stay with the substitute."""
    with transaction.atomic():
        absence = Absence.objects.select_for_update().select_related("substitute").get(pk=absence.pk)
        if by is None or by.pk != absence.user_id:
            raise NotAllowed(_("Only the person who will be away records their absence."))
        if absence.cancelled is not None:
            raise IllegalTransition(_("This absence has already been cancelled."))
        absence.cancelled = timezone.now()
        absence.save(update_fields=["cancelled"])
        audit.record("absence.cancelled", actor=by, obj=absence, from_state="recorded", to_state="cancelled")
        notify([absence.substitute], _("%(name)s is back; the cover has ended.") % {"name": by})
    return absence


def grant_label(grant):
    scope = grant.cluster or grant.region
    return f"{grant.get_role_display()}（{scope}）" if scope else grant.get_role_display()
