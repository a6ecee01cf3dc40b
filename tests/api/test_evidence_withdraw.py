"""Withdrawing an evidence file through the API: the page's domain step, its refusals in Chinese, its audit row."""

import pytest

from certification.domain import evidence as domain
from certification.errors import DomainError
from certification.models import AuditEvent, EvidenceFile, Tier
from tests.factories.workflow import build_world, upload_all_evidence
from tests.workflows.driver import start

from .conftest import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = build_world(Tier.CLOSE_KNIT)
    world.application, world.process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(world.application, world.lead)
    return world


def _file(world, stage="basic"):
    return EvidenceFile.objects.filter(application=world.application, requirement__stage=stage).order_by("pk").first()


def _url(world, evidence_file):
    return f"/api/v1/applications/{world.application.pk}/evidence/{evidence_file.pk}/withdraw/"


def _withdrawn():
    return sorted(EvidenceFile.objects.exclude(withdrawn=None).values_list("pk", flat=True))


def test_the_lead_withdraws_a_file_with_a_reason_and_it_is_audited(world):
    evidence_file = _file(world)
    client = api_as(world.lead)

    response = client.post(_url(world, evidence_file), {"reason": "年份错误"}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["withdraw_reason"], body["current"]) == (evidence_file.pk, "年份错误", False)
    assert body["withdrawn"] is not None
    event = AuditEvent.objects.get(action="evidence.withdrawn")
    assert (event.actor_id, event.object_id, event.reason) == (world.lead.pk, str(evidence_file.pk), "年份错误")
    listed = client.get(f"/api/v1/applications/{world.application.pk}/evidence/{evidence_file.pk}/").json()
    assert listed["withdrawn"] == body["withdrawn"]


def test_a_missing_reason_names_the_field(world):
    evidence_file = _file(world)

    response = api_as(world.lead).post(_url(world, evidence_file), {"reason": "  "}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    assert response.json()["message"] == "这个字段是必填项。"
    assert _withdrawn() == []


@pytest.mark.parametrize("role", ["office", "leader", "evaluator"])
def test_anyone_but_the_lead_is_refused_as_on_the_page(world, role):
    evidence_file = _file(world)
    user = world.evaluators[0] if role == "evaluator" else getattr(world, role)
    client = api_as(user)
    before = AuditEvent.objects.count()

    response = client.post(_url(world, evidence_file), {"reason": "不要了"}, format="json")

    assert response.status_code in (403, 404)
    if response.status_code == 403:
        assert response.json() == {
            "code": "not_allowed",
            "message": "只有本学区/集团的负责人可以为本申请上传或撤回佐证材料。",
        }
    assert (_withdrawn(), AuditEvent.objects.count()) == ([], before)


def _refusal(evidence_file, user):
    with pytest.raises(DomainError) as refused:
        domain.withdraw_evidence(evidence_file, by=user, reason="试试")
    return refused.value.message


def test_a_submitted_stage_and_a_file_already_withdrawn_are_refused_with_the_pages_message(world):
    lead = api_as(world.lead)
    task = lead.get("/api/v1/tasks/", {"node": "submit_basic"}).json()["results"][0]
    lead.post(f"/api/v1/tasks/{task['id']}/claim/")
    assert lead.post(f"/api/v1/tasks/{task['id']}/complete/").status_code == 200
    frozen_file, open_file = _file(world, "basic"), _file(world, "process")
    assert lead.post(_url(world, open_file), {"reason": "换一份"}, format="json").status_code == 200
    before = AuditEvent.objects.count()

    frozen = lead.post(_url(world, frozen_file), {"reason": "换一份"}, format="json")
    again = lead.post(_url(world, open_file), {"reason": "再撤一次"}, format="json")

    assert (frozen.status_code, frozen.json()) == (
        409,
        {"code": "upload_frozen", "message": _refusal(frozen_file, world.lead)},
    )
    assert "已提交" in frozen.json()["message"]
    assert (again.status_code, again.json()) == (
        409,
        {"code": "illegal_transition", "message": _refusal(open_file, world.lead)},
    )
    assert _withdrawn() == [open_file.pk]
    assert AuditEvent.objects.count() == before


def test_a_file_of_another_application_is_not_found(world):
    other = build_world(Tier.CLOSE_KNIT)
    other_application, _process = start(other.lead, other.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(other_application, other.lead)
    foreign = EvidenceFile.objects.filter(application=other_application).first()

    # The lead's own application in the path, the other application's file id: not one of its files.
    response = api_as(world.lead).post(_url(world, foreign), {"reason": "越权"}, format="json")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert _withdrawn() == []
