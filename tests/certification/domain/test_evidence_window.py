"""The evidence domain after the upload: the upload window, missing requirements, withdrawal, permanence."""

import hashlib
from datetime import date

import pytest
from django.db.models import ProtectedError
from django.utils import timezone

from certification.domain import evidence as domain
from certification.errors import InvalidInput, NotAllowed
from certification.models import Application, ApplicationStage, AuditEvent, CorrectionRequest, EvidenceFile, Indicator
from certification.models.evidence import EvidenceIsPermanent
from tests.certification.domain.evidence_checks import assert_nothing_stored
from tests.factories import UserFactory
from tests.factories import evidence as f
from tests.factories.evidence import stored_files

# application, lead, charter and media (MEDIA_ROOT in a temporary folder) come from tests/certification/conftest.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def submit_stage(application, stage, by):
    ApplicationStage.objects.update_or_create(
        application=application,
        stage=stage,
        defaults={"status": ApplicationStage.Status.SUBMITTED, "submitted": timezone.now(), "submitted_by": by},
    )


# --- the upload window ----------------------------------------------------------------------------------------------


def test_can_upload_open_stage_without_row_while_collecting(application, charter):
    assert domain.can_upload(application, charter) is True


def test_can_upload_missing_row_after_collecting_is_closed(application, charter):
    application.status = Application.Status.FORMAL_REVIEW

    assert domain.can_upload(application, charter) is False


def test_upload_evidence_after_stage_submitted_refused_stores_nothing(application, lead, charter, media):
    submit_stage(application, "basic", lead)

    with pytest.raises(domain.UploadFrozen) as refused:
        domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), "章程.pdf"), by=lead)

    assert refused.value.message == (
        "“基础材料”阶段已提交，该阶段的材料已冻结。只有区教育局将此指标退回补正后，才能再次上传。"
    )
    assert refused.value.status == 409
    assert_nothing_stored(media)


def test_upload_evidence_other_stage_still_open_after_one_submitted(application, lead):
    submit_stage(application, "basic", lead)
    roster = f.requirement(application, "A2-roster")

    evidence_file = domain.upload_evidence(application, roster, f.upload(f.pdf_bytes(), "名单.pdf"), by=lead)

    assert evidence_file.version == 1


def test_upload_evidence_returned_indicator_under_open_correction_allowed(application, lead, charter):
    for stage in ("basic", "process", "outcome"):
        submit_stage(application, stage, lead)
    Application.objects.filter(pk=application.pk).update(status=Application.Status.CORRECTION)
    application.refresh_from_db()
    correction = CorrectionRequest.objects.create(
        application=application, comment="章程缺少签章页", deadline=date(2025, 6, 30), created_by=UserFactory()
    )
    correction.indicators.add(Indicator.objects.get(dimension__standard=application.standard, code="A1"))

    evidence_file = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), "章程.pdf"), by=lead)

    assert evidence_file.version == 1
    assert domain.can_upload(application, f.requirement(application, "A2-roster")) is False
    correction.resolved = timezone.now()
    correction.save(update_fields=["resolved"])
    assert domain.can_upload(application, charter) is False


def test_upload_evidence_closed_application_refused(lead, media):
    application = f.make_application(status=Application.Status.FAILED)
    lead = f.make_lead(application.cluster)

    with pytest.raises(domain.UploadFrozen, match="本申请已结束"):
        domain.upload_evidence(
            application, f.requirement(application, "A1-charter"), f.upload(f.pdf_bytes(), "章程.pdf"), by=lead
        )

    assert_nothing_stored(media)


# --- missing requirements -------------------------------------------------------------------------------------------


def test_missing_requirements_lists_required_without_current_file(application, lead, charter):
    assert domain.missing_requirements(application, "basic") == [charter]
    assert [r.code for r in domain.missing_requirements(application, "process")] == ["A2-roster"]

    evidence_file = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), "章程.pdf"), by=lead)
    assert domain.missing_requirements(application, "basic") == []

    domain.withdraw_evidence(evidence_file, by=lead, reason="上传错了年份")
    assert domain.missing_requirements(application, "basic") == [charter]


# --- withdrawal and permanence --------------------------------------------------------------------------------------


def test_withdraw_evidence_keeps_file_and_row_in_history(application, lead, charter, media):
    evidence_file = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), "章程.pdf"), by=lead)

    domain.withdraw_evidence(evidence_file, by=lead, reason=" 上传错了年份 ")

    evidence_file.refresh_from_db()
    assert evidence_file.is_withdrawn
    assert (evidence_file.withdrawn_by, evidence_file.withdraw_reason) == (lead, "上传错了年份")
    assert (media / evidence_file.stored_name).read_bytes() == f.pdf_bytes()
    assert list(EvidenceFile.objects.current()) == []
    event = AuditEvent.objects.get(action="evidence.withdrawn")
    assert (event.reason, event.from_state, event.to_state) == ("上传错了年份", "current", "withdrawn")


def test_withdraw_evidence_refusals(application, lead, charter):
    evidence_file = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), "章程.pdf"), by=lead)

    with pytest.raises(InvalidInput, match="请填写撤回该文件的原因。"):
        domain.withdraw_evidence(evidence_file, by=lead, reason="  ")
    with pytest.raises(NotAllowed):
        domain.withdraw_evidence(evidence_file, by=UserFactory(), reason="不要了")
    domain.withdraw_evidence(evidence_file, by=lead, reason="上传错了年份")
    with pytest.raises(domain.IllegalTransition, match="该文件已被撤回。"):
        domain.withdraw_evidence(evidence_file, by=lead, reason="再撤一次")
    assert AuditEvent.objects.filter(action="evidence.withdrawn").count() == 1


def test_withdraw_evidence_after_stage_submitted_refused(application, lead, charter):
    evidence_file = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), "章程.pdf"), by=lead)
    submit_stage(application, "basic", lead)

    with pytest.raises(domain.UploadFrozen):
        domain.withdraw_evidence(evidence_file, by=lead, reason="不要了")

    evidence_file.refresh_from_db()
    assert evidence_file.withdrawn is None


def test_evidence_file_delete_refused(application, lead, charter, media):
    evidence_file = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), "章程.pdf"), by=lead)

    with pytest.raises(EvidenceIsPermanent):
        evidence_file.delete()
    with pytest.raises(EvidenceIsPermanent):
        EvidenceFile.objects.all().delete()
    with pytest.raises(ProtectedError):
        Application.objects.filter(pk=application.pk).delete()

    assert EvidenceFile.objects.filter(pk=evidence_file.pk).exists()
    assert stored_files(media) == [evidence_file.stored_name]


def test_evidence_file_change_refused(application, lead, charter):
    evidence_file = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), "章程.pdf"), by=lead)

    evidence_file.sha256 = "0" * 64
    with pytest.raises(EvidenceIsPermanent):
        evidence_file.save()
    with pytest.raises(EvidenceIsPermanent):
        evidence_file.save(update_fields=["sha256"])
    with pytest.raises(EvidenceIsPermanent):
        EvidenceFile.objects.update(stored_name="evidence/elsewhere.pdf")

    assert EvidenceFile.objects.get().sha256 == hashlib.sha256(f.pdf_bytes()).hexdigest()
