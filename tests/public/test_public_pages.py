"""The public 公示 page and objections from anyone: no sign-in, nothing internal shown, rate limits answer 429 in
Chinese, and an anonymous objection holds the certificate exactly as a signed-in one does."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.domain.public import PUBLIC_FIELDS
from certification.models import Application, AuditEvent, Certificate, Cluster, EvaluatorAssignment, Objection, Tier
from tests.factories.evidence import pdf_bytes, upload
from tests.factories.work import ApplicationFactory
from tests.factories.workflow import build_world, upload_all_evidence
from tests.workflows.driver import client_for, do, end_publicity, open_task, scores, start, take
from workflows.flows import CertificationFlow as F

# Every evaluator scores A2 below full marks, so each sheet carries a comment the public must never see.
SCORED = {"A1": 4, "A2": 5}
EVALUATOR_COMMENT = "轮岗名单内部评审意见"
LEADER_COMMENT = "区领导内部审批意见"


def to_publicity(world):
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    panel = world.evaluators[:3]
    do(world.office, process, F.assign_evaluators, {"evaluators": [e.pk for e in panel], "panel_lead": panel[0].pk})
    for evaluator in panel:
        assignment = EvaluatorAssignment.objects.get(application=application, evaluator=evaluator, status="active")
        task = Task.objects.get(
            process=process, flow_task=F.score, status=STATUS.ASSIGNED, data__assignment=assignment.pk
        )
        data = {"action": "submit", **scores(application, SCORED, comment=EVALUATOR_COMMENT)}
        do(evaluator, process, F.score, data, task=task)
    do(world.leader, process, F.district_decision, {"decision": "approve", "comment": LEADER_COMMENT})
    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY
    return application, process


@pytest.fixture
def in_publicity(db):
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_publicity(world)
    return world, application, process


def objection_data(**extra):
    return {"name": "王某", "contact": "13800000000", "text": "轮岗名单与学校实际不符", "website": "", **extra}


def rendered_fields(html):
    return sorted(set(re.findall(r'data-field="([a-z_]+)"', html)))


def test_publicity_page_needs_no_login_and_shows_only_public_fields(in_publicity):
    world, application, _process = in_publicity

    response = Client().get(reverse("public:publicity"))

    html = response.content.decode()
    assert response.status_code == 200
    # Every field the page renders, listed: the public row (its number only in the objection link) and nothing else.
    assert rendered_fields(html) == sorted(set(PUBLIC_FIELDS) - {"pk"}) == [
        "cluster", "district", "ends", "starts", "tier", "total_score", "vetoes_met",
    ]  # fmt: skip
    row = re.search(r'<tr data-test="row">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    starts = application.status_changed.astimezone().date()
    assert cells[:6] == [
        world.cluster.name,
        "紧密型",
        "9.00",
        "全部满足",
        starts.isoformat(),
        (starts + timedelta(days=7)).isoformat(),
    ]
    for secret in [EVALUATOR_COMMENT, LEADER_COMMENT, *(str(e) for e in world.evaluators), "评分", str(world.office)]:
        assert secret not in html
    objection_page = Client().get(reverse("public:objection", args=[application.pk])).content.decode()
    assert rendered_fields(objection_page) == ["cluster", "district", "ends", "tier"]
    for secret in [EVALUATOR_COMMENT, LEADER_COMMENT, *(str(e) for e in world.evaluators)]:
        assert secret not in objection_page


def test_objection_page_is_404_for_an_application_not_in_publicity(db):
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)

    response = Client().get(reverse("public:objection", args=[application.pk]))

    assert response.status_code == 404
    assert world.cluster.name not in response.content.decode()


@pytest.mark.parametrize(("outcome", "status"), [("dismissed", "certified"), ("upheld", "failed")])
def test_anonymous_objection_holds_the_certificate_as_a_signed_in_one_does(in_publicity, outcome, status):
    world, application, process = in_publicity

    response = Client().post(
        reverse("public:objection", args=[application.pk]),
        objection_data(attachment=upload(pdf_bytes("证明"), "证明材料.pdf")),
    )

    assert response.status_code == 200
    assert "异议已收到" in response.content.decode()
    objection = Objection.objects.get(application=application)
    assert (objection.raised_by, objection.objector_name, objection.objector_contact, objection.text) == (
        None,
        "王某",
        "13800000000",
        "轮岗名单与学校实际不符",
    )
    assert objection.attachment_name == "证明材料.pdf" and len(objection.attachment_sha256) == 64
    event = AuditEvent.objects.get(action="objection.raised", application=application)
    assert (event.actor, event.to_state, event.reason) == (None, "open", "轮岗名单与学校实际不符")
    assert event.payload == {
        "channel": "public",
        "name": "王某",
        "contact": "13800000000",
        "attachment": "证明材料.pdf",
        "attachment_sha256": objection.attachment_sha256,
    }

    end_publicity(process, world.standard.publicity_days)

    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY
    assert not Certificate.objects.filter(application=application).exists()
    do(
        world.office,
        process,
        F.resolve_objections,
        {"action": "resolve", "objection": objection.pk, "outcome": outcome, "resolution": "经核查"},
    )
    do(world.office, process, F.resolve_objections, {"action": "finish"})
    application.refresh_from_db()
    assert application.status == status
    assert Certificate.objects.filter(application=application).exists() is (outcome == "dismissed")
    assert Cluster.objects.get(pk=world.cluster.pk).current_tier == (
        Tier.CLOSE_KNIT if outcome == "dismissed" else Tier.NONE
    )


def test_office_reads_the_public_objection_and_opens_its_attachment(in_publicity):
    world, application, process = in_publicity
    Client().post(
        reverse("public:objection", args=[application.pk]),
        objection_data(attachment=upload(pdf_bytes("证明"), "证明材料.pdf")),
    )
    objection = Objection.objects.get(application=application)
    end_publicity(process, world.standard.publicity_days)
    url = reverse("objection_attachment", args=[objection.pk])

    task = open_task(process, F.resolve_objections)
    take(world.office, task)
    page = client_for(world.office).get(F.resolve_objections.reverse("execute", args=[process.pk, task.pk]))
    download = client_for(world.office).get(url)
    lead = client_for(world.lead).get(url)

    assert "王某（公众，13800000000）" in page.content.decode()
    assert f'<a href="{url}">证明材料.pdf</a>' in page.content.decode()
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == pdf_bytes("证明")
    assert lead.status_code == 403


def test_objection_attachment_of_a_refused_type_is_not_kept(in_publicity):
    _world, application, _process = in_publicity

    response = Client().post(
        reverse("public:objection", args=[application.pk]),
        objection_data(attachment=upload(b"MZ\x90\x00 not a document", "说明.pdf")),
    )

    assert response.status_code == 400
    assert "不接受此类文件。请上传以下类型之一：PDF" in response.content.decode()
    assert not Objection.objects.exists()
    assert not AuditEvent.objects.filter(action="objection.raised").exists()


@override_settings(PUBLIC_ATTACHMENT_MAX_BYTES=1000)
def test_objection_attachment_over_the_size_limit_is_not_kept(in_publicity):
    _world, application, _process = in_publicity

    response = Client().post(
        reverse("public:objection", args=[application.pk]),
        objection_data(attachment=upload(pdf_bytes("x" * 2000), "大文件.pdf")),
    )

    assert response.status_code == 400
    assert "文件超过允许的最大大小 1000" in response.content.decode().replace("\xa0", " ")
    assert not Objection.objects.exists()


def test_honeypot_filled_is_answered_like_a_person_but_nothing_is_kept(in_publicity):
    _world, application, _process = in_publicity

    response = Client().post(
        reverse("public:objection", args=[application.pk]), objection_data(website="http://spam.example")
    )

    assert response.status_code == 200
    assert "异议已收到" in response.content.decode()
    assert not Objection.objects.exists()


@override_settings(PUBLIC_OBJECTION_RATE_PER_IP="2/h")
def test_objections_from_one_address_are_limited_with_a_chinese_429(in_publicity):
    _world, application, _process = in_publicity
    url = reverse("public:objection", args=[application.pk])
    client = Client(REMOTE_ADDR="203.0.113.7")

    codes = [client.post(url, objection_data()).status_code for _ in range(3)]
    other_address = Client(REMOTE_ADDR="203.0.113.8").post(url, objection_data())

    assert codes == [200, 200, 429]
    assert other_address.status_code == 200
    refused = client.post(url, objection_data())
    assert refused.status_code == 429
    assert "请求过于频繁" in refused.content.decode()
    assert Objection.objects.count() == 3


@override_settings(PUBLIC_OBJECTION_RATE_PER_APPLICATION="2/h")
def test_objections_to_one_application_are_limited_whatever_the_address(in_publicity):
    _world, application, _process = in_publicity
    url = reverse("public:objection", args=[application.pk])

    codes = [Client(REMOTE_ADDR=f"198.51.100.{n}").post(url, objection_data()).status_code for n in range(1, 4)]

    assert codes == [200, 200, 429]
    assert Objection.objects.count() == 2


def test_publicity_page_runs_the_same_queries_for_one_and_many_applications(db, django_assert_num_queries):
    ApplicationFactory(status="publicity")
    client = Client()
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("public:publicity"))
    for _ in range(5):
        ApplicationFactory(status="publicity")

    with django_assert_num_queries(len(one)):
        response = client.get(reverse("public:publicity"))

    assert response.content.decode().count('<tr data-test="row">') == 6


def test_login_page_links_the_public_pages(db):
    page = Client().get(reverse("login")).content.decode()

    assert f'<a href="{reverse("public:publicity")}">公示中的认定结果</a>' in page
    assert f'<a href="{reverse("public:verify")}">证书验证</a>' in page
