"""Certificate verification by serial and check code (or the QR code), and the certificate's own A4 page."""

import re
from datetime import date, timedelta

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from certification.domain.certificate import certificate_check_code
from certification.domain.public import printed_check_code, verification_path
from certification.models import Certificate, Role, Tier
from tests.factories import ClusterFactory, DistrictFactory
from tests.factories.work import ApplicationFactory, lead_of, person


def make_certificate(
    *, issued, valid_until, revoked=None, cluster=None, serial="XQRZ-2025-紧密-0001", tier=Tier.CLOSE_KNIT
):
    application = ApplicationFactory(cluster=cluster or ClusterFactory(name="天平-湖南学区"), status="certified")
    certificate = Certificate(
        serial=serial,
        application=application,
        cluster=application.cluster,
        tier=tier,
        standard=application.standard,
        issued=issued,
        valid_until=valid_until,
        # A revocation ends the certificate from its day (certification.domain.tiers.revoke writes the same).
        ended_on=timezone.localdate(revoked) if revoked else None,
        end_reason="revoked" if revoked else "",
    )
    certificate.check_code = certificate_check_code(certificate)
    certificate.save()
    return certificate


def verify(serial, code, client=None):
    return (client or Client()).get(reverse("public:verify"), {"serial": serial, "code": code})


def result_of(response):
    html = response.content.decode()
    section = re.search(r'<section class="xq-card xq-result[^"]*" data-test="result">(.*?)</section>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.group(1))).strip()


@pytest.fixture
def today():
    return timezone.localdate()


def test_valid_certificate_shows_its_facts(db, today):
    certificate = make_certificate(issued=today - timedelta(days=10), valid_until=today + timedelta(days=1000))

    response = verify(certificate.serial, printed_check_code(certificate))

    assert response.status_code == 200
    standard = certificate.standard
    assert result_of(response) == (
        f"有效 证书编号 {certificate.serial} 学区/集团 天平-湖南学区 区 {certificate.cluster.district} 等级 紧密型 "
        f"评估标准版本 {standard.title}（第{standard.version}版） "
        f"发证日期 {certificate.issued.isoformat()} 有效期至 {certificate.valid_until.isoformat()}"
    )


def test_expired_certificate_says_expired(db, today):
    certificate = make_certificate(issued=date(2020, 1, 10), valid_until=today - timedelta(days=1))

    response = verify(certificate.serial, certificate.check_code)

    assert result_of(response).startswith(f"已过期 证书编号 {certificate.serial} ")


def test_revoked_certificate_says_revoked_even_before_it_expires(db, today):
    certificate = make_certificate(
        issued=today - timedelta(days=30), valid_until=today + timedelta(days=900), revoked=timezone.now()
    )

    response = verify(certificate.serial, printed_check_code(certificate).lower().replace("-", " "))

    assert result_of(response).startswith(f"已撤销 证书编号 {certificate.serial} ")


def test_wrong_code_and_unknown_serial_get_the_same_answer(db, today):
    certificate = make_certificate(issued=today, valid_until=today + timedelta(days=900))
    wrong_code = "0000-0000-0000-0000" if not certificate.check_code.startswith("0000") else "FFFF-FFFF-FFFF-FFFF"

    wrong = verify(certificate.serial, wrong_code)
    unknown = verify("XQRZ-2025-紧密-9999", wrong_code)

    assert wrong.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"|value="[^"]*"')
    assert strip.sub("", wrong.content.decode()) == strip.sub("", unknown.content.decode())
    assert (
        result_of(wrong) == "没有与该证书编号和校验码相符的证书。 请对照证书核对两项内容。无法在此验证的证书不应采信。"
    )
    assert "天平-湖南学区" not in wrong.content.decode()


def test_qr_code_address_verifies_the_certificate(db, today):
    certificate = make_certificate(issued=today, valid_until=today + timedelta(days=900))

    response = Client().get(verification_path(certificate))

    assert result_of(response).startswith(f"有效 证书编号 {certificate.serial} ")


@override_settings(PUBLIC_VERIFY_RATE_PER_IP="3/m")
def test_verification_is_rate_limited_with_a_chinese_429(db):
    client = Client(REMOTE_ADDR="192.0.2.10")

    codes = [verify(f"XQRZ-2025-紧密-{n:04d}", "0000", client).status_code for n in range(4)]
    blank_form = client.get(reverse("public:verify"))

    assert codes == [200, 200, 200, 429]
    assert "请求过于频繁" in verify("XQRZ-2025-紧密-0009", "0000", client).content.decode()
    # Opening the empty form looks nothing up and is not counted.
    assert blank_form.status_code == 200


def test_certificate_page_prints_serial_tier_validity_code_and_qr(db, today):
    certificate = make_certificate(issued=date(2026, 3, 1), valid_until=date(2029, 3, 1))
    lead = lead_of(certificate.cluster)

    response = Client()
    response.force_login(lead)
    page = response.get(reverse("certificate", args=[certificate.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    fields = dict(re.findall(r'data-field="([a-z_]+)"[^>]*>(.*?)</', html))
    assert fields == {
        "issuer": f"{certificate.cluster.district}教育局",
        "tier": "紧密型",
        "serial": certificate.serial,
        "cluster": "天平-湖南学区",
        "standard": f"{certificate.standard.title}（第{certificate.standard.version}版）",
        "issued": "2026年3月1日",
        "valid_until": "2029年3月1日",
        "state": "有效" if today <= date(2029, 3, 1) else "已过期",
        "check_code": printed_check_code(certificate),
    }
    assert re.search(r'<div class="xq-cert__qr" data-test="qr"><svg [^>]*class="segno"', html)
    assert "certification/certificates/certificate.css" in html
    # The sheet itself carries no inline script or style (the site frame around it is every page's).
    sheet = html[html.index('<div class="xq-cert-page">') :]
    assert "<script>" not in sheet and " style=" not in sheet


def test_certificate_page_sits_in_the_site_frame_with_the_user_and_a_way_back(db, today):
    # Issue 8: found by the ladder walk. The certificate page had no menu; it is a page of the site, which on
    # paper prints only the A4 sheet (certificate.css hides the frame in print).
    certificate = make_certificate(issued=today, valid_until=today + timedelta(days=900))
    client = Client()
    client.force_login(lead_of(certificate.cluster))

    html = client.get(reverse("certificate", args=[certificate.pk])).content.decode()

    assert 'class="mdc-top-app-bar__title"' in html and "vf-page__menu" in html
    assert reverse("work:application_detail", args=[certificate.application_id]) in html


def test_city_model_certificate_is_issued_by_the_city_education_commission(db, today):
    # Issue 8, found by the ladder walk: a 市级示范性 certificate named the district bureau as its issuer, though
    # the city decides that tier (DOMAIN.md, seed 002).
    certificate = make_certificate(
        issued=today, valid_until=today + timedelta(days=900), serial="XQRZ-2026-市示范-0001", tier=Tier.CITY_MODEL
    )
    client = Client()
    client.force_login(lead_of(certificate.cluster))

    html = client.get(reverse("certificate", args=[certificate.pk])).content.decode()

    issuer = re.search(r'data-field="issuer"[^>]*>(.*?)</', html).group(1)
    assert issuer == f"{certificate.cluster.district.parent.name}教育委员会"


def test_certificate_page_is_404_outside_the_application_scope(db, today):
    certificate = make_certificate(issued=today, valid_until=today + timedelta(days=900))
    stranger = person(Role.DISTRICT_OFFICE, region=DistrictFactory())
    client = Client()
    client.force_login(stranger)

    response = client.get(reverse("certificate", args=[certificate.pk]))
    anonymous = Client().get(reverse("certificate", args=[certificate.pk]))

    assert response.status_code == 404
    assert certificate.serial not in response.content.decode()
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
