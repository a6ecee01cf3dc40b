"""Evidence pages over HTTP, withdrawal, download and preview: who may withdraw and download, and the headers."""

import pytest
from django.urls import reverse

from certification.domain import evidence as domain
from certification.domain.roles import grant_role
from certification.models import AuditEvent, Role
from tests.certification.views.evidence.urls import download_url
from tests.factories import ClusterFactory, DistrictFactory, UserFactory
from tests.factories import evidence as f

# application, lead, charter and media (MEDIA_ROOT in a temporary folder) come from tests/certification/conftest.py,
# district_office and stored from the conftest.py next to this module.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def body(response):
    return b"".join(response.streaming_content)


# --- withdraw -------------------------------------------------------------------------------------------------------


def test_evidence_withdraw_by_lead_marks_withdrawn(client, application, lead, stored):
    client.force_login(lead)

    response = client.post(
        reverse("evidence_withdraw", args=[application.pk, stored.pk]), {f"withdraw-{stored.pk}-reason": "年份错误"}
    )

    stored.refresh_from_db()
    assert response.status_code == 302
    assert (stored.withdrawn_by, stored.withdraw_reason) == (lead, "年份错误")
    assert AuditEvent.objects.filter(action="evidence.withdrawn", object_id=str(stored.pk)).count() == 1


def test_evidence_withdraw_without_reason_400(client, application, lead, stored):
    client.force_login(lead)

    response = client.post(reverse("evidence_withdraw", args=[application.pk, stored.pk]), {})

    stored.refresh_from_db()
    assert response.status_code == 400
    assert "这个字段是必填项。" in response.content.decode()
    assert stored.withdrawn is None


def test_evidence_withdraw_by_viewer_refused_403(client, application, district_office, stored):
    client.force_login(district_office)

    response = client.post(
        reverse("evidence_withdraw", args=[application.pk, stored.pk]), {f"withdraw-{stored.pk}-reason": "不要了"}
    )

    stored.refresh_from_db()
    assert response.status_code == 403
    assert stored.withdrawn is None


# --- download and preview -------------------------------------------------------------------------------------------


def test_evidence_download_headers_exact(client, lead, stored):
    client.force_login(lead)

    response = client.get(download_url(stored))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E7%AB%A0%E7%A8%8B.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Length"] == str(stored.size)
    assert body(response) == f.pdf_bytes("保密内容")


def test_evidence_download_hostile_name_header_is_safe(client, application, lead, charter):
    evidence_file = domain.upload_evidence(
        application, charter, f.upload(f.pdf_bytes(), 'a";\r\nSet-Cookie: x=1;\u202e.pdf'), by=lead
    )
    client.force_login(lead)

    response = client.get(download_url(evidence_file))

    assert evidence_file.original_name == "a_; Set-Cookie_ x=1;.pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"a__ Set-Cookie_ x=1_.pdf\"; filename*=UTF-8''a_%3B%20Set-Cookie_%20x%3D1%3B.pdf"
    )
    assert not response.has_header("Set-Cookie")


def test_evidence_download_viewer_in_scope_allowed(client, district_office, stored):
    client.force_login(district_office)

    response = client.get(download_url(stored))

    assert response.status_code == 200
    assert body(response) == f.pdf_bytes("保密内容")


def test_evidence_download_withdrawn_version_still_available(client, lead, stored):
    domain.withdraw_evidence(stored, by=lead, reason="年份错误")
    client.force_login(lead)

    assert body(client.get(download_url(stored))) == f.pdf_bytes("保密内容")


@pytest.mark.parametrize("who", ["other_lead", "other_district_office", "unassigned_evaluator", "no_role"])
def test_evidence_download_out_of_scope_is_404(who, client, stored):
    user = UserFactory()
    if who == "other_lead":
        grant_role(user, Role.LEAD, cluster=ClusterFactory())
    elif who == "other_district_office":
        grant_role(user, Role.DISTRICT_OFFICE, region=DistrictFactory())
    elif who == "unassigned_evaluator":
        grant_role(user, Role.EVALUATOR)
    client.force_login(user)

    for name in ("evidence_download", "evidence_preview"):
        response = client.get(download_url(stored, name))
        assert response.status_code == 404
        assert not response.streaming
        assert b"\xe4\xbf\x9d\xe5\xaf\x86" not in response.content  # 保密 (the file's content)
        assert "章程.pdf" not in response.content.decode()


def test_evidence_download_anonymous_is_404(client, stored):
    for name in ("evidence_download", "evidence_preview"):
        response = client.get(download_url(stored, name))
        assert response.status_code == 404
        assert "章程.pdf" not in response.content.decode()


def test_evidence_download_file_of_other_application_is_404(client, lead, application, stored):
    other = f.make_application()
    other_lead = f.make_lead(other.cluster)
    client.force_login(other_lead)

    response = client.get(reverse("evidence_download", args=[other.pk, stored.pk]))

    assert response.status_code == 404


def test_evidence_preview_pdf_inline_with_csp(client, lead, stored):
    client.force_login(lead)

    response = client.get(download_url(stored, "evidence_preview"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "inline; filename=\"__.pdf\"; filename*=UTF-8''%E7%AB%A0%E7%A8%8B.pdf"
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_evidence_download_may_not_be_framed(client, lead, stored):
    client.force_login(lead)

    response = client.get(download_url(stored, "evidence_download"))

    assert response["X-Frame-Options"] == "DENY"


def test_evidence_preview_image_sandboxed(client, application, lead, charter):
    evidence_file = domain.upload_evidence(application, charter, f.upload(f.png_bytes(), "场地.png"), by=lead)
    client.force_login(lead)

    response = client.get(download_url(evidence_file, "evidence_preview"))

    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"].endswith("; sandbox")
    assert body(response) == f.png_bytes()


def test_evidence_preview_office_file_is_404(client, application, lead, charter):
    evidence_file = domain.upload_evidence(application, charter, f.upload(f.office_bytes("docx"), "章程.docx"), by=lead)
    client.force_login(lead)

    response = client.get(download_url(evidence_file, "evidence_preview"))

    assert response.status_code == 404
