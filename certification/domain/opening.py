"""Opening an application and submitting its evidence (DOMAIN.md "The certification process", first steps)."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition, InvalidInput, NotAllowed, NotEligible
from certification.models import (
    Application,
    ApplicationStage,
    Cluster,
    EvidenceStage,
    Role,
)
from certification.models.dataset import data_school_year
from certification.scope import holders

from . import audit, datasets, roles
from ._steps import _lock, _move, _name, _require_permission, _require_status, _tell
from .eligibility import check_eligibility
from .evidence import missing_requirements


def open_application(cluster, target_tier, *, by, year=None):
    """Open an application of `cluster` for `target_tier`, pinned to the standard version in force.

    Checks eligibility under a lock on the cluster row, so two leads clicking at once open one application. Pins the
    latest versions of the cluster's data for the school year it covers (`datasets.pin_for`): data imported once
    serve it without a new upload. Side effects: an audit row. Starting the certification process is the workflow's job
    (`workflows.flows.CertificationFlow.start`), which calls this function.
    """
    with transaction.atomic():
        cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
        standard = check_eligibility(cluster, target_tier)
        try:
            with transaction.atomic():
                application = Application.objects.create(
                    cluster=cluster,
                    target_tier=target_tier,
                    standard=standard,
                    year=year or timezone.localdate().year,
                    opened_by=by,
                )
        except IntegrityError:
            raise NotEligible(_("%(cluster)s already has an open application.") % {"cluster": cluster.name}) from None
        versions = datasets.pin_for(application, cluster, data_school_year(application))
        audit.record(
            "application.opened",
            actor=by,
            application=application,
            obj=application,
            to_state=application.status,
            payload={
                "tier": target_tier,
                "standard": standard.pk,
                "standard_version": standard.version,
                "data_versions": datasets.pinned_payload(versions),
            },
        )
    return application


def start_application(cluster, target_tier, *, by):
    """The lead opens an application of their cluster; eligibility is checked by `open_application`.

    Side effects: the application (pinned to the standard in force) and its three evidence stages, object
    permissions for everyone in scope, audit rows, a notification to the district office.
    """
    if not roles.holds_role(by, Role.LEAD, cluster=cluster):
        raise NotAllowed(_("Only a lead of %(cluster)s may open an application for it.") % {"cluster": cluster.name})
    with transaction.atomic():
        application = open_application(Cluster.objects.get(pk=cluster.pk), target_tier, by=by)
        ApplicationStage.objects.bulk_create(
            ApplicationStage(application=application, stage=stage) for stage in EvidenceStage.values
        )
        roles.sync_object_permissions(applications=[application])
        _tell(
            holders(Role.DISTRICT_OFFICE, application),
            _("New application: %(name)s") % {"name": _name(application)},
            _("The lead has opened an application and is collecting evidence."),
            application=application,
        )
    return application


def submit_stage(application, stage, *, by):
    """The lead submits one evidence stage; its evidence is frozen from then on.

    Refused while a required item of the stage is missing (the message names each one). When the third stage
    is submitted the application moves to formal review. Side effects: the stage's status, audit rows,
    a notification to the district office once all stages are in.
    """
    with transaction.atomic():
        application = _lock(application)
        _require_permission(by, "act_as_lead", application, _("Only the cluster's lead may submit evidence."))
        _require_status(application, Application.Status.EVIDENCE)
        row = ApplicationStage.objects.select_for_update().get(application=application, stage=stage)
        if row.status != ApplicationStage.Status.OPEN:
            raise IllegalTransition(
                _("The stage “%(stage)s” has already been submitted.") % {"stage": row.get_stage_display()}
            )
        missing = missing_requirements(application, stage)
        if missing:
            raise IllegalTransition(
                _("The stage “%(stage)s” cannot be submitted yet; upload these required items first: %(items)s")
                % {
                    "stage": row.get_stage_display(),
                    "items": "；".join(item.title for item in missing),
                }
            )
        row.status = ApplicationStage.Status.SUBMITTED
        row.submitted = timezone.now()
        row.submitted_by = by
        row.save(update_fields=["status", "submitted", "submitted_by"])
        audit.record(
            "stage.submitted",
            actor=by,
            application=application,
            obj=row,
            from_state=ApplicationStage.Status.OPEN,
            to_state=ApplicationStage.Status.SUBMITTED,
            payload={"stage": stage},
        )
        still_open = ApplicationStage.objects.filter(
            application=application, status=ApplicationStage.Status.OPEN
        ).exists()
        if not still_open:
            _move(application, Application.Status.FORMAL_REVIEW, by=by, action="application.evidence_complete")
            _tell(
                holders(Role.DISTRICT_OFFICE, application),
                _("Formal review due: %(name)s") % {"name": _name(application)},
                _("All three evidence stages have been submitted."),
                application=application,
            )
    return row


# An application may be withdrawn until evaluators are at work on it: afterwards the panel's work and the leaders'
# decision run to their end (DOMAIN.md "The certification process").
WITHDRAWABLE = {
    Application.Status.EVIDENCE,
    Application.Status.FORMAL_REVIEW,
    Application.Status.CORRECTION,
    Application.Status.ASSIGNMENT,
}


def withdraw_application(application, *, by, reason):
    """The lead withdraws the application (status 已撤回); the cluster may open a new one afterwards.

    Refused after evaluators were assigned, and without a reason. Side effects: status and closing time, audit row
    with the reason, a notification to the district office. Ending the flow's open tasks is the workflow's part
    (`workflows.engine.withdraw_application`).
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        application = _lock(application)
        _require_permission(by, "act_as_lead", application, _("Only the cluster's lead may withdraw the application."))
        _require_status(application, *WITHDRAWABLE)
        if not reason:
            raise InvalidInput(_("Say why the application is withdrawn."))
        _move(application, Application.Status.WITHDRAWN, by=by, action="application.withdrawn", reason=reason)
        _tell(
            holders(Role.DISTRICT_OFFICE, application),
            _("Application withdrawn: %(name)s") % {"name": _name(application)},
            reason,
            application=application,
        )
    return application
