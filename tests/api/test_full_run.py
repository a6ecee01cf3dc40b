"""An application carried from opening to certificate through the API alone, every persona with its own token,
then compared with the same run through the pages (tests/workflows/driver.py)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient
from viewflow.workflow.status import PROCESS

from certification.models import (
    Application,
    AuditEvent,
    Certificate,
    CorrectionRequest,
    EvidenceFile,
    Objection,
    Tier,
    TierChange,
)
from tests.factories.evidence import pdf_bytes
from tests.factories.workflow import build_world, upload_all_evidence
from tests.workflows.driver import do, end_publicity, score_all, start
from workflows.flows import CertificationFlow as F
from workflows.models import process_for

from .conftest import api_as

pytestmark = pytest.mark.django_db

FULL = {"A1": 4, "A2": 6}


def _task(client, application, node):
    response = client.get("/api/v1/tasks/", {"application": application, "node": node})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 1, body
    return body["results"][0]


def _claim_and_complete(client, application, node, data=None):
    task = _task(client, application, node)
    if not task["assigned_to_me"]:
        claimed = client.post(f"/api/v1/tasks/{task['id']}/claim/")
        assert claimed.status_code == 200, claimed.json()
        assert claimed.json()["status"] == "ASSIGNED"
    done = client.post(f"/api/v1/tasks/{task['id']}/complete/", data or {}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "DONE"
    return done.json()


def _sheet(application, values):
    data = {"action": "submit"}
    for indicator in application.standard.indicators():
        data[f"value_{indicator.pk}"] = str(values[indicator.code])
    return data


def _audit_trail(application):
    return list(
        AuditEvent.objects.filter(application=application, object_type="certification.application")
        .exclude(from_state="")
        .values_list("action", "from_state", "to_state")
    )


def _through_the_api(world):
    lead = api_as(world.lead)
    opened = lead.post("/api/v1/applications/", {"cluster": world.cluster.pk, "target_tier": Tier.CLOSE_KNIT})
    assert opened.status_code == 201, opened.json()
    body = opened.json()
    assert (body["cluster"], body["target_tier"], body["status"]) == (world.cluster.pk, "close_knit", "evidence")
    application = Application.objects.get(pk=body["id"])

    requirements = lead.get(f"/api/v1/applications/{application.pk}/requirements/").json()
    assert requirements["count"] == 3
    assert all(item["missing"] and item["may_upload"] for item in requirements["results"])
    for requirement in requirements["results"]:
        uploaded = lead.post(
            f"/api/v1/applications/{application.pk}/requirements/{requirement['id']}/upload/",
            {"file": _pdf(requirement["code"])},
            format="multipart",
        )
        assert uploaded.status_code == 201, uploaded.json()
        assert (uploaded.json()["version"], uploaded.json()["current"]) == (1, True)
    for node in ("submit_basic", "submit_process", "submit_outcome"):
        _claim_and_complete(lead, application.pk, node)

    office = api_as(world.office)
    _claim_and_complete(office, application.pk, "formal_review", {"decision": "pass", "comment": "材料齐全"})
    evaluators = world.evaluators[:3]
    _claim_and_complete(
        office,
        application.pk,
        "assign_evaluators",
        {"evaluators": [e.pk for e in evaluators], "panel_lead": evaluators[0].pk},
    )
    for evaluator in evaluators:
        _claim_and_complete(api_as(evaluator), application.pk, "score", _sheet(application, FULL))
    leader = api_as(world.leader)
    _claim_and_complete(leader, application.pk, "district_decision", {"decision": "approve", "comment": "同意"})
    return application


def _pdf(code):
    return SimpleUploadedFile(f"{code}.pdf", pdf_bytes(code), content_type="application/pdf")


def _through_the_pages(world):
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    do(world.office, process, F.formal_review, {"decision": "pass", "comment": "材料齐全"})
    evaluators = world.evaluators[:3]
    do(
        world.office,
        process,
        F.assign_evaluators,
        {"evaluators": [e.pk for e in evaluators], "panel_lead": evaluators[0].pk},
    )
    score_all(application, process, dict.fromkeys(evaluators, FULL))
    do(world.leader, process, F.district_decision, {"decision": "approve", "comment": "同意"})
    return application


def _final_state(world, application):
    application.refresh_from_db()
    world.cluster.refresh_from_db()
    certificate = Certificate.objects.get(application=application)
    change = TierChange.objects.get(application=application)
    return {
        "status": application.status,
        "total": application.total_score,
        "passed": application.passed,
        "process": process_for(application).status,
        "certificate": (certificate.tier, certificate.valid_until - certificate.issued),
        "tier": (world.cluster.current_tier, world.cluster.tier_since == certificate.issued),
        "change": (change.from_tier, change.to_tier),
        "audit": _audit_trail(application),
        "evidence": EvidenceFile.objects.filter(application=application).count(),
    }


def test_api_carries_an_application_from_open_to_certificate_like_the_pages():
    api_world = build_world(Tier.CLOSE_KNIT)
    application = _through_the_api(api_world)
    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY
    end_publicity(process_for(application), api_world.standard.publicity_days)

    page_world = build_world(Tier.CLOSE_KNIT)
    page_application = _through_the_pages(page_world)
    end_publicity(process_for(page_application), page_world.standard.publicity_days)

    api_state = _final_state(api_world, application)
    page_state = _final_state(page_world, page_application)
    assert api_state == page_state
    assert api_state["status"] == Application.Status.CERTIFIED
    assert api_state["process"] == PROCESS.DONE
    certificate = Certificate.objects.get(application=application)
    # The certificate verifies publicly, without a token.
    verified = APIClient().get(
        "/api/v1/certificates/verify/", {"serial": certificate.serial, "check_code": certificate.check_code}
    )
    assert verified.status_code == 200
    assert verified.json()["valid"] is True
    assert verified.json()["serial"] == certificate.serial
    assert verified.json()["issued"] == timezone.localdate().isoformat()


def test_objection_raised_and_dismissed_through_the_api_then_certified():
    world = build_world(Tier.CLOSE_KNIT)
    application = _through_the_api(world)
    lead, office = api_as(world.lead), api_as(world.office)

    too_early_text = lead.post(f"/api/v1/applications/{application.pk}/objections/", {"text": ""}, format="json")
    raised = lead.post(f"/api/v1/applications/{application.pk}/objections/", {"text": "轮岗名单有误"}, format="json")
    objection = Objection.objects.get(application=application)
    resolved = office.post(
        f"/api/v1/applications/{application.pk}/objections/resolve/",
        {"objection": objection.pk, "outcome": "dismissed", "resolution": "经核实名单无误"},
        format="json",
    )
    end_publicity(process_for(application), world.standard.publicity_days)

    assert (too_early_text.status_code, list(too_early_text.json()["fields"])) == (400, ["text"])
    assert raised.status_code == 201
    assert raised.json()["application_status"] == "publicity"
    assert resolved.status_code == 200, resolved.json()
    objection.refresh_from_db()
    assert (objection.outcome, objection.resolved_by) == ("dismissed", world.office)
    application.refresh_from_db()
    assert application.status == Application.Status.CERTIFIED
    again = lead.post(f"/api/v1/applications/{application.pk}/objections/", {"text": "再提异议"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"


def test_formal_review_returns_named_indicators_and_the_lead_corrects_through_the_api():
    world = build_world(Tier.CLOSE_KNIT)
    lead, office = api_as(world.lead), api_as(world.office)
    application, _process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    for node in ("submit_basic", "submit_process", "submit_outcome"):
        _claim_and_complete(lead, application.pk, node)
    a2 = application.standard.indicators().get(code="A2")
    deadline = (timezone.localdate() + timedelta(days=10)).isoformat()

    _claim_and_complete(
        office,
        application.pk,
        "formal_review",
        {"decision": "return", "indicators": [a2.pk], "comment": "轮岗名单缺少签章", "deadline": deadline},
    )
    correction = CorrectionRequest.objects.get(application=application)
    application.refresh_from_db()
    assert application.status == Application.Status.CORRECTION
    assert list(correction.indicators.values_list("code", flat=True)) == ["A2"]
    task = _task(lead, application.pk, "correct")
    # The cluster's only lead holds the 补正 task at once; it cannot be submitted before a new file answers A2.
    assert task["assigned_to_me"] is True
    no_file = lead.post(f"/api/v1/tasks/{task['id']}/complete/", {"response": "已补充"}, format="json")
    assert (no_file.status_code, no_file.json()["code"]) == (400, "invalid_input")
    for requirement in a2.evidence_requirements.all():
        uploaded = lead.post(
            f"/api/v1/applications/{application.pk}/requirements/{requirement.pk}/upload/",
            {"file": _pdf(requirement.code)},
            format="multipart",
        )
        assert uploaded.status_code == 201, uploaded.json()
    empty = lead.post(f"/api/v1/tasks/{task['id']}/complete/", {"response": ""}, format="json")
    assert (empty.status_code, list(empty.json()["fields"])) == (400, ["response"])
    _claim_and_complete(lead, application.pk, "correct", {"response": "已补充签章"})

    application.refresh_from_db()
    correction.refresh_from_db()
    assert application.status == Application.Status.FORMAL_REVIEW
    assert _task(office, application.pk, "formal_review")["assigned_to_me"] is False
