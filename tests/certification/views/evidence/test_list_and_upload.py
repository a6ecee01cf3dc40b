"""Evidence pages over HTTP, the list and the upload: who may see and upload, and what the responses carry."""

import hashlib

import pytest
from django.core.files.uploadhandler import FileUploadHandler
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certification.domain import evidence as domain
from certification.models import ApplicationStage, EvidenceFile
from tests.certification.views.evidence.urls import download_url
from tests.factories import ClusterFactory
from tests.factories import evidence as f
from tests.factories.evidence import stored_files

# application, lead, charter and media (MEDIA_ROOT in a temporary folder) come from tests/certification/conftest.py,
# district_office and stored from the conftest.py next to this module.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def list_url(application, stage="basic"):
    return reverse("evidence_list", args=[application.pk, stage])


def upload_url(application, requirement):
    return reverse("evidence_upload", args=[application.pk, requirement.pk])


# --- the list -------------------------------------------------------------------------------------------------------


def test_evidence_list_shows_every_version_with_its_facts(client, application, lead, charter, stored):
    domain.withdraw_evidence(stored, by=lead, reason="缺少签章页")
    second = domain.upload_evidence(application, charter, f.upload(f.png_bytes(), "签章页.png"), by=lead)
    client.force_login(lead)

    response = client.get(list_url(application))

    html = response.content.decode()
    assert response.status_code == 200
    assert [group["requirement"].code for group in response.context["groups"]] == ["A1-charter", "A1-minutes"]
    assert [file.version for file in response.context["groups"][0]["files"]] == [2, 1]
    assert "章程.pdf" in html and "签章页.png" in html
    assert stored.sha256[:12] not in html and "SHA-256" not in html  # a hash is for the audit, not for people
    assert "已撤回" in html and "缺少签章页" in html
    assert str(lead) in html
    assert f'action="{upload_url(application, charter)}"' in html
    assert download_url(second, "evidence_preview") in html


def test_evidence_list_viewer_in_scope_sees_no_upload_or_withdraw(client, application, district_office, stored):
    client.force_login(district_office)

    response = client.get(list_url(application))

    html = response.content.decode()
    assert response.status_code == 200
    assert "章程.pdf" in html
    assert 'enctype="multipart/form-data"' not in html
    assert "/withdraw/" not in html


def test_evidence_list_out_of_scope_is_404(client, application, stored):
    client.force_login(f.make_lead(ClusterFactory()))

    response = client.get(list_url(application))

    assert response.status_code == 404
    assert "章程.pdf" not in response.content.decode()


def test_evidence_list_unknown_stage_is_404(client, application, lead):
    client.force_login(lead)

    assert client.get(list_url(application, "everything")).status_code == 404


def test_evidence_list_query_count_same_for_3_and_30_files(client, application, lead, charter):
    client.force_login(lead)

    def queries_with(total):
        while EvidenceFile.objects.count() < total:
            domain.upload_evidence(application, charter, f.upload(f.pdf_bytes(), "章程.pdf"), by=lead)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(list_url(application))
        assert len(response.context["groups"][0]["files"]) == total
        return len(captured)

    assert queries_with(3) == queries_with(30)


# --- upload ---------------------------------------------------------------------------------------------------------


def test_evidence_upload_by_lead_saves_and_redirects(client, application, lead, charter, media):
    client.force_login(lead)
    content = f.office_bytes("docx")

    response = client.post(upload_url(application, charter), {"file": f.upload(content, "学区章程.docx")})

    evidence_file = EvidenceFile.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{list_url(application)}#requirement-{charter.pk}"
    assert (evidence_file.uploaded_by, evidence_file.original_name, evidence_file.version) == (lead, "学区章程.docx", 1)
    assert evidence_file.sha256 == hashlib.sha256(content).hexdigest()
    assert stored_files(media) == [evidence_file.stored_name]


@pytest.mark.parametrize(
    ("build", "name", "message"),
    [
        (
            f.exe_bytes,
            "章程.pdf",
            "不接受此类文件。请上传以下类型之一：PDF、Word (.docx)、Excel (.xlsx)、PowerPoint (.pptx)、JPEG、PNG、MP4。",
        ),
        (f.png_bytes, "章程.docx", "文件内容是 PNG，但文件名以“.docx”结尾。请将扩展名改为 .png，或上传正确的文件。"),
        (
            f.xlsm_bytes,
            "名单.xlsx",
            "文件包含宏（VBA）。不接受启用宏的 Office 文件：请另存为不含宏的 .docx、.xlsx 或 .pptx 后重新上传。",
        ),
        (f.zip_bomb_xlsx, "名单.xlsx", "文件中有部件的压缩比超过 200:1，疑似压缩炸弹，已拒收。"),
    ],
    ids=["exe-as-pdf", "png-as-docx", "xlsm", "zip-bomb"],
)
def test_evidence_upload_refused_rerenders_400_stores_nothing(
    build, name, message, client, application, lead, charter, media
):
    client.force_login(lead)

    response = client.post(upload_url(application, charter), {"file": f.upload(build(), name)})

    assert response.status_code == 400
    form = next(group["upload_form"] for group in response.context["groups"] if group["requirement"] == charter)
    assert form.errors["file"] == [message]
    assert message in response.content.decode()
    assert EvidenceFile.objects.count() == 0
    assert stored_files(media) == []


def test_evidence_upload_over_limit_stopped_while_streaming(settings, client, application, lead, charter, media):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 100_000
    client.force_login(lead)

    response = client.post(upload_url(application, charter), {"file": f.upload(f.pdf_bytes("x" * 300_000), "章程.pdf")})

    assert response.status_code == 400
    assert "文件超过允许的最大大小 97.7\xa0KB。请压缩或拆分后重新上传。" in response.content.decode()
    assert EvidenceFile.objects.count() == 0
    assert stored_files(media) == []


class CountingHandler(FileUploadHandler):
    """Sits in front of Django's temporary-file handler and counts the bytes that reach it."""

    received = 0

    def receive_data_chunk(self, raw_data, start):
        CountingHandler.received += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


def test_evidence_upload_over_limit_never_spooled_whole(settings, client, application, lead, charter):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 100_000
    settings.FILE_UPLOAD_HANDLERS = [
        "tests.certification.views.evidence.test_list_and_upload.CountingHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    CountingHandler.received = 0
    client.force_login(lead)

    response = client.post(upload_url(application, charter), {"file": f.upload(b"x" * 5_000_000, "章程.pdf")})

    assert response.status_code == 400
    # The stream stops within one 64 KiB chunk of the limit instead of writing 5 MB to a temporary file.
    assert 0 < CountingHandler.received <= 100_000 + 64 * 1024


def test_evidence_upload_without_file_400(client, application, lead, charter):
    client.force_login(lead)

    response = client.post(upload_url(application, charter), {})

    assert response.status_code == 400
    assert "请选择要上传的文件。" in response.content.decode()


def test_evidence_upload_by_viewer_in_scope_refused_403(client, application, district_office, charter, media):
    client.force_login(district_office)

    response = client.post(upload_url(application, charter), {"file": f.upload(f.pdf_bytes(), "章程.pdf")})

    assert response.status_code == 403
    assert "只有本学区/集团的负责人可以为本申请上传或撤回佐证材料。" in response.content.decode()
    assert EvidenceFile.objects.count() == 0
    assert stored_files(media) == []


def test_evidence_upload_after_stage_submitted_refused_409(client, application, lead, charter, media):
    ApplicationStage.objects.create(
        application=application, stage="basic", status="submitted", submitted=timezone.now(), submitted_by=lead
    )
    client.force_login(lead)

    page = client.get(list_url(application))
    response = client.post(upload_url(application, charter), {"file": f.upload(f.pdf_bytes(), "章程.pdf")})

    assert 'enctype="multipart/form-data"' not in page.content.decode()
    assert response.status_code == 409
    assert "“基础材料”阶段已提交" in response.content.decode()
    assert EvidenceFile.objects.count() == 0
    assert stored_files(media) == []


def test_evidence_upload_out_of_scope_404(client, application, charter, media):
    client.force_login(f.make_lead(ClusterFactory()))

    response = client.post(upload_url(application, charter), {"file": f.upload(f.pdf_bytes(), "章程.pdf")})

    assert response.status_code == 404
    assert EvidenceFile.objects.count() == 0
    assert stored_files(media) == []


def test_evidence_upload_requires_csrf_token(application, lead, charter, media):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)

    response = client.post(upload_url(application, charter), {"file": f.upload(f.pdf_bytes(), "章程.pdf")})

    assert response.status_code == 403
    assert EvidenceFile.objects.count() == 0
