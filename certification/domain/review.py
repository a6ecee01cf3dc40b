"""Formal review by the district office and the 补正 loop (return named indicators, the lead answers)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition, InvalidInput
from certification.models import (
    Application,
    CorrectionRequest,
    Indicator,
    Role,
)
from certification.scope import deciding_office_role, holders, holders_of

from ._steps import _lock, _move, _name, _require_permission, _require_status, _tell
from .queries import indicators_without_new_file


def pass_formal_review(application, *, by, comment=""):
    """The district office finds the dossier complete. Next: evaluator assignment.

    Side effects: status, audit row, a notification to the lead and to the office that assigns evaluators.
    """
    with transaction.atomic():
        application = _lock(application)
        _require_permission(
            by, "act_as_district_office", application, _("Only the district office may carry out the formal review.")
        )
        _require_status(application, Application.Status.FORMAL_REVIEW)
        _move(application, Application.Status.ASSIGNMENT, by=by, action="formal_review.passed", reason=comment)
        leads, office = holders_of([Role.LEAD, deciding_office_role(application)], application)
        _tell(
            leads + office,
            _("Formal review passed: %(name)s") % {"name": _name(application)},
            _("The dossier is complete; evaluators will be assigned next."),
            application=application,
        )
    return application


def request_correction(application, indicators, comment, deadline, *, by):
    """The district office returns named indicators for 补正 with a comment and a deadline.

    Only those indicators' evidence opens for uploads again (see certification.domain.evidence).
    Side effects: a CorrectionRequest, status, audit row, a notification to the lead.
    """
    comment = (comment or "").strip()
    with transaction.atomic():
        application = _lock(application)
        _require_permission(
            by, "act_as_district_office", application, _("Only the district office may return material for correction.")
        )
        _require_status(application, Application.Status.FORMAL_REVIEW)
        chosen = list(
            Indicator.objects.filter(dimension__standard=application.standard, pk__in=[i.pk for i in indicators])
        )
        if not chosen or len(chosen) != len({i.pk for i in indicators}):
            raise InvalidInput(_("Choose at least one indicator of this application's standard to return."))
        if not comment:
            raise InvalidInput(_("Say what must be corrected."))
        if deadline is None or deadline <= timezone.localdate():
            raise InvalidInput(_("The correction deadline must be a date after today."))
        correction = CorrectionRequest.objects.create(
            application=application, comment=comment, deadline=deadline, created_by=by
        )
        correction.indicators.set(chosen)
        _move(
            application,
            Application.Status.CORRECTION,
            by=by,
            action="formal_review.correction_requested",
            reason=comment,
            payload={
                "indicators": [i.code for i in chosen],
                "deadline": deadline.isoformat(),
                "correction": correction.pk,
            },
        )
        _tell(
            holders(Role.LEAD, application),
            _("Correction requested: %(name)s") % {"name": _name(application)},
            _("Indicators returned: %(codes)s. Deadline: %(deadline)s. %(comment)s")
            % {"codes": "、".join(i.code for i in chosen), "deadline": deadline.isoformat(), "comment": comment},
            application=application,
        )
    return correction


def submit_correction(correction, response, *, by):
    """The lead answers a correction request; the application goes back to formal review.

    Refused while a returned indicator has no file uploaded since the request (the message names each one).
    Side effects: the request resolved, status, audit row, a notification to the district office.
    """
    with transaction.atomic():
        application = _lock(correction.application)
        correction = CorrectionRequest.objects.select_for_update().get(pk=correction.pk)
        _require_permission(by, "act_as_lead", application, _("Only the cluster's lead may answer a correction."))
        _require_status(application, Application.Status.CORRECTION)
        if correction.resolved is not None:
            raise IllegalTransition(_("This correction has already been answered."))
        unanswered = indicators_without_new_file(correction)
        if unanswered:
            raise InvalidInput(
                _("Upload a new file for each returned indicator first: %(items)s")
                % {"items": "；".join(f"{i.code} {i.title}" for i in unanswered)}
            )
        correction.resolved = timezone.now()
        correction.resolved_by = by
        correction.response = (response or "").strip()
        correction.save(update_fields=["resolved", "resolved_by", "response"])
        _move(
            application,
            Application.Status.FORMAL_REVIEW,
            by=by,
            action="correction.submitted",
            reason=correction.response,
            payload={"correction": correction.pk},
        )
        _tell(
            holders(Role.DISTRICT_OFFICE, application),
            _("Correction submitted: %(name)s") % {"name": _name(application)},
            correction.response,
            application=application,
        )
    return correction
