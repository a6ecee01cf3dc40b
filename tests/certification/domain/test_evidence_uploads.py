"""The evidence domain, uploads: versions, refusals that store nothing, hostile file names, concurrent uploads."""

import hashlib
import re
import threading

import pytest
from django.db import connection

from certification.domain import evidence as domain
from certification.errors import InvalidInput, NotAllowed
from certification.models import AuditEvent, EvidenceFile
from certification.uploads import UploadRejected
from tests.certification.domain.evidence_checks import assert_nothing_stored
from tests.factories import ClusterFactory, UserFactory
from tests.factories import evidence as f
from tests.factories.evidence import stored_files

# application, lead, charter and media (MEDIA_ROOT in a temporary folder) come from tests/certification/conftest.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


# --- accepted uploads -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pdf", "docx", "xlsx", "pptx", "jpg", "jpeg", "png", "mp4"])
def test_upload_evidence_each_allowed_type_stored_with_detected_type(kind, application, lead, charter, media):
    build, name, content_type = f.SAMPLES[kind]
    content = build()

    evidence_file = domain.upload_evidence(application, charter, f.upload(content, name), by=lead)

    assert evidence_file.version == 1
    assert evidence_file.original_name == name
    assert evidence_file.content_type == content_type
    assert evidence_file.size == len(content)
    assert evidence_file.sha256 == hashlib.sha256(content).hexdigest()
    assert evidence_file.uploaded_by == lead
    extension = {"jpeg": ".jpg"}.get(kind, "." + kind)
    assert re.fullmatch(rf"evidence/{application.pk}/[0-9a-f]{{32}}\{extension}", evidence_file.stored_name)
    assert (media / evidence_file.stored_name).read_bytes() == content
    assert stored_files(media) == [evidence_file.stored_name]


def test_upload_evidence_browser_content_type_ignored(application, lead, charter):
    upload = f.upload(f.png_bytes(), "场地.png")
    upload.content_type = "application/pdf"

    evidence_file = domain.upload_evidence(application, charter, upload, by=lead)

    assert evidence_file.content_type == "image/png"


def test_upload_evidence_writes_audit_row(application, lead, charter):
    content = f.pdf_bytes()

    evidence_file = domain.upload_evidence(application, charter, f.upload(content, "章程.pdf"), by=lead)

    event = AuditEvent.objects.get(action="evidence.uploaded")
    assert (event.actor, event.application, event.object_id) == (lead, application, str(evidence_file.pk))
    assert event.payload == {
        "requirement": "A1-charter",
        "stage": "basic",
        "version": 1,
        "name": "章程.pdf",
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
        "content_type": "application/pdf",
    }


def test_upload_evidence_new_upload_is_new_version_old_kept(application, lead, charter, media):
    first = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes("v1"), "章程.pdf"), by=lead)

    second = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes("v2"), "章程.pdf"), by=lead)

    assert (first.version, second.version) == (1, 2)
    assert first.stored_name != second.stored_name
    assert (media / first.stored_name).read_bytes() == f.pdf_bytes("v1")
    assert (media / second.stored_name).read_bytes() == f.pdf_bytes("v2")
    assert list(EvidenceFile.objects.values_list("version", "withdrawn")) == [(1, None), (2, None)]


def test_upload_evidence_versions_count_per_requirement(application, lead, charter):
    minutes = f.requirement(application, "A1-minutes")
    domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), "章程.pdf"), by=lead)

    evidence_file = domain.upload_evidence(application, minutes, f.upload(f.pdf_bytes(), "纪要.pdf"), by=lead)

    assert evidence_file.version == 1


# --- refusals: each leaves nothing stored ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "name", "message"),
    [
        (
            f.exe_bytes,
            "章程.pdf",
            "不接受此类文件。请上传以下类型之一：PDF、Word (.docx)、Excel (.xlsx)、PowerPoint (.pptx)、JPEG、PNG、MP4。",
        ),
        (
            f.html_bytes,
            "章程.pdf",
            "不接受此类文件。请上传以下类型之一：PDF、Word (.docx)、Excel (.xlsx)、PowerPoint (.pptx)、JPEG、PNG、MP4。",
        ),
        (
            f.png_bytes,
            "会议纪要.docx",
            "文件内容是 PNG，但文件名以“.docx”结尾。请将扩展名改为 .png，或上传正确的文件。",
        ),
        (
            f.pdf_bytes,
            "章程",
            "文件内容是 PDF，但文件名以“（无扩展名）”结尾。请将扩展名改为 .pdf，或上传正确的文件。",
        ),
        (
            f.zip_bomb_xlsx,
            "名单.xlsx",
            "文件中有部件的压缩比超过 200:1，疑似压缩炸弹，已拒收。",
        ),
        (
            lambda: f.many_entries_xlsx(2001),
            "名单.xlsx",
            "文件包含 2004 个部件，最多允许 2000 个。请用 Office 重新保存或拆分后再上传。",
        ),
        (
            f.xlsm_bytes,
            "名单.xlsx",
            "文件包含宏（VBA）。不接受启用宏的 Office 文件：请另存为不含宏的 .docx、.xlsx 或 .pptx 后重新上传。",
        ),
        (
            f.docx_with_vba_bytes,
            "纪要.docx",
            "文件包含宏（VBA）。不接受启用宏的 Office 文件：请另存为不含宏的 .docx、.xlsx 或 .pptx 后重新上传。",
        ),
    ],
    ids=["exe-as-pdf", "html-as-pdf", "png-as-docx", "no-extension", "zip-bomb", "too-many-entries", "xlsm", "vba"],
)
def test_upload_evidence_refused_stores_nothing(build, name, message, application, lead, charter, media):
    with pytest.raises(UploadRejected) as refused:
        domain.upload_evidence(application, charter, f.upload(build(), name), by=lead)

    assert refused.value.message == message
    assert refused.value.status == 400
    assert_nothing_stored(media)


def test_upload_evidence_over_size_refused_stores_nothing(settings, application, lead, charter, media):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1000
    content = f.pdf_bytes().ljust(1536, b"\n")

    with pytest.raises(UploadRejected) as refused:
        domain.upload_evidence(application, charter, f.upload(content, "章程.pdf"), by=lead)

    assert refused.value.message == "文件大小为 1.5\xa0KB，最大允许 1000\xa0字节。请压缩或拆分后重新上传。"
    assert_nothing_stored(media)


def test_upload_evidence_understated_size_stopped_while_copying(settings, application, lead, charter, media):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 100_000
    upload = f.upload(f.pdf_bytes("x" * 300_000), "章程.pdf")
    upload.size = 1000  # what a client (or a bug) might claim

    with pytest.raises(UploadRejected) as refused:
        domain.upload_evidence(application, charter, upload, by=lead)

    assert refused.value.message == "文件超过允许的最大大小 97.7\xa0KB。请压缩或拆分后重新上传。"
    assert_nothing_stored(media)


def test_upload_evidence_by_non_lead_refused_stores_nothing(application, charter, media):
    other_lead = f.make_lead(ClusterFactory())

    for user in (UserFactory(), other_lead):
        with pytest.raises(NotAllowed) as refused:
            domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), "章程.pdf"), by=user)
        assert refused.value.message == "只有本学区/集团的负责人可以为本申请上传或撤回佐证材料。"
    assert_nothing_stored(media)


def test_upload_evidence_requirement_of_other_standard_refused(application, lead, media):
    foreign = f.requirement(f.make_application(), "A1-charter")

    with pytest.raises(InvalidInput, match="该材料要求不属于本申请所采用的评估标准版本。"):
        domain.upload_evidence(application, foreign, f.upload(f.pdf_bytes(), "章程.pdf"), by=lead)

    assert_nothing_stored(media)


# --- file names -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../../../etc/cron.d/章程.pdf", "章程.pdf"),
        ("..\\..\\windows\\system32\\章程.pdf", "章程.pdf"),
        ("/tmp/章程.pdf", "章程.pdf"),
        ("章程\u202efdp.exe.pdf", "章程fdp.exe.pdf"),
        ("章\x00程\x1b[31m\r\n.pdf", "章程[31m.pdf"),
    ],
)
def test_upload_evidence_hostile_name_stored_safely(raw, shown, application, lead, charter, media):
    evidence_file = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), raw), by=lead)

    assert evidence_file.original_name == shown
    assert stored_files(media) == [evidence_file.stored_name]
    assert evidence_file.path.resolve().is_relative_to((media / "evidence" / str(application.pk)).resolve())
    assert shown not in evidence_file.stored_name


# --- concurrent uploads ---------------------------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_upload_evidence_concurrent_uploads_get_consecutive_versions(media):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (CI's second pass)")
    application = f.make_application()
    lead = f.make_lead(application.cluster)
    charter = f.requirement(application, "A1-charter")
    barrier = threading.Barrier(4)
    outcomes = []

    def upload(n):
        try:
            barrier.wait()
            evidence_file = domain.upload_evidence(
                application, charter, f.upload(f.pdf_bytes(f"v{n}"), f"章程{n}.pdf"), by=lead
            )
            outcomes.append(evidence_file.version)
        except Exception as error:  # collected and asserted below: a thread's exception would otherwise vanish
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [1, 2, 3, 4]
    assert sorted(EvidenceFile.objects.values_list("version", flat=True)) == [1, 2, 3, 4]
    assert len(stored_files(media)) == 4
