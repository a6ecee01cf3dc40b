"""What every step of the process shares: the row lock, the state and permission checks, the move with its audit row, and telling the people concerned. Internal to the step modules."""

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition, NotAllowed
from certification.models import (
    Application,
)
from certification.models.tier import decided_by_city

from . import audit, roles
from .notify import (
    city_leaders_of,
    city_office_of,
    district_leaders_of,
    district_office_of,
    leads_of,
    notify,
    panel_of,
)


def _lock(application):
    # Lock the application row only: the district's city is a nullable (outer) join PostgreSQL cannot lock.
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("cluster__district__parent", "standard")
        .get(pk=application.pk)
    )


def _require_status(application, *statuses):
    if application.status not in statuses:
        raise IllegalTransition(
            _("This step cannot be taken now: the application is “%(status)s”.")
            % {"status": application.get_status_display()}
        )


def _require_permission(user, codename, application, message):
    if user is None or not user.is_authenticated or not user.has_perm(roles.perm(codename), application):
        raise NotAllowed(message)


def _move(application, to_status, *, by, action, reason="", payload=None):
    """Change the application's status and write the audit row of the transition."""
    from_status = application.status
    application.status = to_status
    application.status_changed = timezone.now()
    fields = ["status", "status_changed"]
    if to_status in Application.CLOSED:
        application.closed = application.status_changed
        fields.append("closed")
    application.save(update_fields=fields)
    audit.record(
        action,
        actor=by,
        application=application,
        obj=application,
        from_state=from_status,
        to_state=to_status,
        reason=reason,
        payload=payload,
    )


def _office_codename(application):
    """The office that runs evaluation and objections: the city's for 市级示范性, else the district's."""
    return "act_as_city_office" if decided_by_city(application.target_tier) else "act_as_district_office"


def deciding_office(application):
    """The people of the office that assigns evaluators and resolves objections for this application."""
    district = application.cluster.district
    if decided_by_city(application.target_tier):
        return city_office_of(district.parent)
    return district_office_of(district)


def _everyone(application):
    district = application.cluster.district
    people = leads_of(application.cluster) + district_office_of(district) + panel_of(application)
    people += district_leaders_of(district)
    if decided_by_city(application.target_tier):
        people += city_office_of(district.parent) + city_leaders_of(district.parent)
    return people


def _link(application):
    """The application's dossier page for a notification's link ("" when the work pages are not mounted)."""
    try:
        return reverse("work:application_detail", args=[application.pk])
    except NoReverseMatch:
        return ""


def _tell(people, subject, body, *, application):
    """Queue a notification about `application` to `people`, linking to its dossier."""
    return notify(people, subject, body, application=application, url=_link(application))


def _name(application):
    return f"{application.cluster.name}（{application.get_target_tier_display()}）"
