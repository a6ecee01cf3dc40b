"""Evidence files: what is missing, when uploads are allowed, uploading a new version, withdrawing one.

The upload window: a requirement takes uploads while its stage is open (an ApplicationStage row with status
"open"; no row yet counts as open while the application is collecting evidence) or while an open correction
request (补正) returns the requirement's indicator. Once a stage is submitted its evidence is frozen.
Only the cluster's lead(s) (an active "lead" RoleGrant on the application's cluster) add or withdraw files.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from certification import uploads
from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import (
    Application,
    ApplicationStage,
    CorrectionRequest,
    EvidenceRequirement,
    EvidenceStage,
    Role,
    RoleGrant,
)
from certification.models.evidence import EvidenceFile

from . import audit


class UploadFrozen(IllegalTransition):
    """The requirement's stage is submitted (or the application closed) and nothing returns it for correction."""


@dataclass(frozen=True)
class UploadWindow:
    """Which evidence of one application takes uploads now. Built with two queries; asking it costs none."""

    application_open: bool
    open_stages: frozenset
    returned_indicator_ids: frozenset

    def allows(self, requirement):
        if not self.application_open:
            return False
        return requirement.stage in self.open_stages or requirement.indicator_id in self.returned_indicator_ids


def upload_window(application):
    """The UploadWindow of `application` as the database has it now."""
    rows = dict(ApplicationStage.objects.filter(application=application).values_list("stage", "status"))
    collecting = application.status == Application.Status.EVIDENCE
    missing_row = ApplicationStage.Status.OPEN if collecting else None
    open_stages = frozenset(
        stage for stage in EvidenceStage.values if rows.get(stage, missing_row) == ApplicationStage.Status.OPEN
    )
    returned = frozenset(
        CorrectionRequest.objects.filter(application=application, resolved__isnull=True).values_list(
            "indicators", flat=True
        )
    )
    return UploadWindow(
        application_open=application.is_open,
        open_stages=open_stages,
        returned_indicator_ids=frozenset(pk for pk in returned if pk is not None),
    )


def can_upload(application, requirement):
    """Whether files may be added to (or withdrawn from) `requirement` of `application` now."""
    return upload_window(application).allows(requirement)


def check_can_upload(application, requirement):
    """Raise a DomainError with the reason unless `requirement` of `application` takes uploads now."""
    _check_requirement_of(application, requirement)
    if not application.is_open:
        raise UploadFrozen(
            _("This application is closed (%(status)s); its evidence can no longer change.")
            % {"status": application.get_status_display()}
        )
    if not upload_window(application).allows(requirement):
        raise UploadFrozen(
            _(
                "The stage “%(stage)s” has been submitted, so its evidence is frozen. Files can be added again only "
                "if the district office returns this indicator for correction."
            )
            % {"stage": requirement.get_stage_display()}
        )


def is_cluster_lead(user, application):
    """Whether `user` holds an active lead role on the application's cluster."""
    if not user.is_authenticated or not user.is_active:
        return False
    return RoleGrant.objects.active().filter(user=user, role=Role.LEAD, cluster_id=application.cluster_id).exists()


def check_may_manage(user, application):
    if not is_cluster_lead(user, application):
        raise NotAllowed(_("Only the cluster's lead may upload or withdraw evidence for this application."))


def _check_requirement_of(application, requirement):
    standard_id = (
        EvidenceRequirement.objects.filter(pk=requirement.pk)
        .values_list("indicator__dimension__standard_id", flat=True)
        .first()
    )
    if standard_id != application.standard_id:
        raise InvalidInput(_("This evidence requirement is not part of the application's standard."))


def requirements_of(application, stage=None):
    """The evidence requirements of the application's pinned standard (of one stage), in the standard's order."""
    requirements = EvidenceRequirement.objects.filter(indicator__dimension__standard_id=application.standard_id)
    if stage is not None:
        requirements = requirements.filter(stage=stage)
    return requirements.select_related("indicator__dimension").order_by(
        "indicator__dimension__order", "indicator__order", "indicator__code", "code"
    )


def missing_requirements(application, stage):
    """Required requirements of `stage` of the pinned standard that have no current (non-withdrawn) file."""
    present = EvidenceFile.objects.for_application(application).current().values("requirement")
    return list(requirements_of(application, stage).filter(required=True).exclude(pk__in=present))


def _add_version(application, requirement, *, by, **stored):
    """Inside the caller's transaction: the next version of the file for `requirement`, described by `stored`.

    The application row lock orders it against a concurrent stage submission, and the upload window is checked
    again under that lock. Returns (the locked application, the new EvidenceFile).
    """
    locked = Application.objects.select_for_update().get(pk=application.pk)
    check_can_upload(locked, requirement)
    previous = EvidenceFile.objects.filter(application=locked, requirement=requirement).aggregate(
        latest=Max("version")
    )["latest"]
    evidence_file = EvidenceFile.objects.create(
        application=locked, requirement=requirement, version=(previous or 0) + 1, uploaded_by=by, **stored
    )
    return locked, evidence_file


def upload_evidence(application, requirement, uploaded_file, *, by, types=None):
    """Keep `uploaded_file` as the next version of the evidence for `requirement` of `application`.

    Refuses (DomainError, nothing stored): a user who is not the cluster's lead (403); a requirement outside the
    upload window (409); a file over the size limit, of a type not allowed by content, a zip bomb, a
    macro-enabled Office file, or a name whose extension disagrees with the content (400).
    The file is kept as evidence/<application>/<uuid>.<ext> in the default storage (`uploads.keep`); no earlier
    version is touched. Side effects: the stored file, an EvidenceFile row, an "evidence.uploaded" audit row.
    `uploaded_file` is any seekable Django File (an UploadedFile from a form, or a File the importer opened).
    """
    check_may_manage(by, application)
    check_can_upload(application, requirement)
    display_name = uploads.sanitise_filename(getattr(uploaded_file, "name", "") or "")
    # `types`: a data set import keeps its .ods workbook too (uploads.SPREADSHEET_TYPES).
    file_type = uploads.validate_upload(uploaded_file, display_name, uploaded_file.size, types=types)

    folder = f"evidence/{application.pk}"
    try:
        with uploads.keeping(uploaded_file, folder, suffix=file_type.extensions[0]) as stored, transaction.atomic():
            locked, evidence_file = _add_version(
                application,
                requirement,
                by=by,
                original_name=display_name,
                stored_name=stored.name,
                sha256=stored.sha256,
                size=stored.size,
                content_type=file_type.content_type,
            )
            audit.record(
                "evidence.uploaded",
                actor=by,
                application=locked,
                obj=evidence_file,
                payload={
                    "requirement": requirement.code,
                    "stage": requirement.stage,
                    "version": evidence_file.version,
                    "name": display_name,
                    "sha256": stored.sha256,
                    "size": stored.size,
                    "content_type": file_type.content_type,
                },
            )
    except IntegrityError:
        raise IllegalTransition(
            _("Another upload for this evidence was saved at the same moment. Reload the page and try again.")
        ) from None
    return evidence_file


def reusable_files(application):
    """The files `reuse_evidence` accepts for `application`: current files of it and of the cluster's certified
    applications, newest first (one query)."""
    return (
        EvidenceFile.objects.current()
        .filter(application__cluster_id=application.cluster_id)
        .filter(Q(application=application) | Q(application__status=Application.Status.CERTIFIED))
        .select_related("requirement", "application")
        .order_by("-uploaded", "-pk")
    )


def reuse_evidence(application, requirement, source, *, by):
    """Attach `source`, a file already accepted for the same cluster, as the next version for `requirement`.

    Accepted means: a current file of this application (one file serving two items), or of an earlier certified
    application of the cluster. The new row names the same stored file (no copy); its upload time is now.
    Refuses: a user who is not the cluster's lead (403); a requirement outside the upload window (409); a file of
    another cluster, withdrawn, or of an application that was not certified (400).
    Side effects: an EvidenceFile row, an "evidence.reused" audit row naming the source file.
    """
    check_may_manage(by, application)
    _check_requirement_of(application, requirement)
    check_can_upload(application, requirement)
    source = EvidenceFile.objects.select_related("application", "requirement").get(pk=source.pk)
    usable = (
        not source.is_withdrawn
        and source.application.cluster_id == application.cluster_id
        and (source.application_id == application.pk or source.application.status == Application.Status.CERTIFIED)
    )
    if not usable:
        raise InvalidInput(
            _("Only a current file of this cluster's certified applications or of this one can be reused.")
        )
    with transaction.atomic():
        locked, evidence_file = _add_version(
            application,
            requirement,
            by=by,
            original_name=source.original_name,
            stored_name=source.stored_name,
            sha256=source.sha256,
            size=source.size,
            content_type=source.content_type,
        )
        audit.record(
            "evidence.reused",
            actor=by,
            application=locked,
            obj=evidence_file,
            payload={
                "requirement": requirement.code,
                "version": evidence_file.version,
                "source": source.pk,
                "source_application": source.application_id,
                "source_requirement": source.requirement.code,
                "sha256": source.sha256,
            },
        )
    return evidence_file


def withdraw_evidence(evidence_file, *, by, reason):
    """Mark `evidence_file` withdrawn with `reason`. The file and its row stay in the history.

    Refuses: a user who is not the cluster's lead (403), an empty reason (400), a file already withdrawn or a
    requirement outside the upload window (409). Side effects: an "evidence.withdrawn" audit row.
    """
    reason = (reason or "").strip()
    application = evidence_file.application
    check_may_manage(by, application)
    if not reason:
        raise InvalidInput(_("Say why the file is withdrawn."))
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        evidence_file = EvidenceFile.objects.select_for_update().select_related("requirement").get(pk=evidence_file.pk)
        check_can_upload(locked, evidence_file.requirement)
        if evidence_file.is_withdrawn:
            raise IllegalTransition(_("This file has already been withdrawn."))
        evidence_file.withdrawn = timezone.now()
        evidence_file.withdrawn_by = by
        evidence_file.withdraw_reason = reason
        evidence_file.save(update_fields=["withdrawn", "withdrawn_by", "withdraw_reason"])
        audit.record(
            "evidence.withdrawn",
            actor=by,
            application=locked,
            obj=evidence_file,
            from_state="current",
            to_state="withdrawn",
            reason=reason,
            payload={
                "requirement": evidence_file.requirement.code,
                "version": evidence_file.version,
                "sha256": evidence_file.sha256,
            },
        )
    return evidence_file
