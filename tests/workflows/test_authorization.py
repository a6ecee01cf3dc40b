"""Who may open what: every role × the application's process, task and evidence URLs, and nothing changes on a
refused request. Out of scope, application URLs answer 404 (no existence leak) and process/task URLs 403."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from guardian.models import UserObjectPermission
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.domain.roles import grant_role, revoke_role
from certification.models import (
    Absence,
    Application,
    AuditEvent,
    CalendarDay,
    CoSignature,
    DatasetImport,
    EvaluatorAssignment,
    ExportJob,
    Objection,
    Role,
    ScoreSheet,
    TaskHandover,
    Tier,
)
from certification.models.evidence import EvidenceFile
from tests.factories.workflow import build_world, person, upload_all_evidence
from tests.workflows.driver import client_for, do, open_task, score_all, scores, start
from workflows.flows import CertificationFlow as F

FULL = {"A1": 4, "A2": 6}
OFFICES = {"office", "other_office", "city_office"}
IN_SCOPE = {"lead", "office", "leader", "city_office", "city_leader", "evaluator"}
ACTORS = [
    "lead",
    "other_lead",
    "office",
    "other_office",
    "leader",
    "other_leader",
    "city_office",
    "city_leader",
    "evaluator",
    "other_evaluator",
    "idle_evaluator",
]


def _to_scoring(world):
    application, process = start(world.lead, world.cluster, world.tier)
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    panel = world.evaluators[:3]
    do(world.office, process, F.assign_evaluators, {"evaluators": [e.pk for e in panel], "panel_lead": panel[0].pk})
    return application, process, panel


@pytest.fixture
def scene(db):
    mine = build_world(Tier.CLOSE_KNIT)
    other = build_world(Tier.CLOSE_KNIT, city=mine.city)
    application, process, panel = _to_scoring(mine)
    _other_application, _other_process, other_panel = _to_scoring(other)
    # Both worlds name their evaluators 评估专家0…; the page frame shows the viewer's own name, so tell them apart.
    for evaluator in other_panel:
        evaluator.display_name = f"外区专家{evaluator.pk}"
        evaluator.save(update_fields=["display_name"])
    actors = {
        "lead": mine.lead,
        "other_lead": other.lead,
        "office": mine.office,
        "other_office": other.office,
        "leader": mine.leader,
        "other_leader": other.leader,
        "city_office": mine.city_office,
        "city_leader": mine.city_leader,
        "evaluator": panel[0],
        "other_evaluator": other_panel[0],
        "idle_evaluator": person(Role.EVALUATOR),
    }
    task = Task.objects.get(process=process, flow_task=F.score, owner=panel[0])
    # Someone else's absence and co-signature (issue 12): nobody in ACTORS may act on them.
    away = person(Role.DISTRICT_LEADER, region=mine.district)
    today = timezone.localdate()
    absence = Absence.objects.create(user=away, substitute=mine.leader, starts=today, ends=today, reason="年假")
    cosignature = CoSignature.objects.create(
        application=application, step="district", requested_by=mine.leader, signer=away, reason="会签"
    )
    evidence = EvidenceFile.objects.filter(application=application).first()
    return {
        "application": application,
        "process": process,
        "task": task,
        "evidence": evidence,
        "actors": actors,
        "absence": absence,
        "cosignature": cosignature,
    }


def _snapshot(application):
    return {
        "status": Application.objects.get(pk=application.pk).status,
        "tasks": sorted(Task.objects.values_list("pk", "status", "owner_id")),
        "audit": AuditEvent.objects.count(),
        "objections": Objection.objects.count(),
        "files": EvidenceFile.objects.count(),
        "sheets": sorted(ScoreSheet.objects.values_list("pk", "status")),
        "assignments": sorted(EvaluatorAssignment.objects.values_list("pk", "status")),
        "permissions": UserObjectPermission.objects.count(),
        "imports": DatasetImport.objects.count(),
        "handovers": TaskHandover.objects.count(),
        "cosignatures": sorted(CoSignature.objects.values_list("pk", "status", "closed")),
        "absences": sorted(Absence.objects.values_list("pk", "cancelled")),
    }


@pytest.mark.parametrize("actor", ACTORS)
def test_authorization_matrix(scene, actor):
    application, process, task, evidence = scene["application"], scene["process"], scene["task"], scene["evidence"]
    user = scene["actors"][actor]
    inside = actor in IN_SCOPE
    owner = actor == "evaluator"
    client = client_for(user)
    views = {
        "process": F.instance.reverse("process_detail", args=[process.pk]),
        "process_cancel": F.instance.reverse("process_cancel", args=[process.pk]),
        "chart": F.instance.reverse("process_chart", args=[process.pk]),
        "task_detail": F.score.reverse("detail", args=[process.pk, task.pk]),
        "task_execute": F.score.reverse("execute", args=[process.pk, task.pk]),
        "evidence_list": reverse("evidence_list", args=[application.pk, "basic"]),
        "evidence_download": reverse("evidence_download", args=[application.pk, evidence.pk]),
        "objection_form": reverse("workflow:objection_raise", args=[application.pk]),
        "district_dashboard": reverse("dashboards:dashboard", args=["district", application.cluster.district_id]),
        "district_dashboard_data": reverse("dashboards:data", args=["district", application.cluster.district_id]),
        "plan_targets": reverse("dashboards:targets", args=[application.cluster.district_id]),
        "city_dashboard": reverse("dashboards:dashboard", args=["city", application.cluster.district.parent_id]),
        "evaluator_analytics": reverse("dashboards:evaluators", args=[application.cluster.district.parent_id]),
        "public_publicity": reverse("public:publicity"),
        "public_verify": reverse("public:verify"),
        "cluster_data": reverse("cluster_data", args=[application.cluster_id]),
        "cluster_dataset_template": reverse("cluster_dataset_template", args=[application.cluster_id, "rotation"]),
        "cluster_self_check": reverse("cluster_self_check", args=[application.cluster_id]),
        "district_readiness": reverse("district_readiness", args=[application.cluster.district_id]),
        "holiday_calendar": reverse("holiday_calendar"),
        "holiday_calendar_template": reverse("holiday_calendar_template"),
        # Issue 12: 转办 / 委派 / 加签 of the scoring task (only its holder sees the form; scoring tasks are personal
        # and the domain refuses passing them on), the person's own co-signatures and absences, the office's bulk page.
        "task_transfer": reverse("work:task_transfer", args=[task.pk]),
        "task_delegate": reverse("work:task_delegate", args=[task.pk]),
        "task_cosign": reverse("work:task_cosign", args=[task.pk]),
        "cosignatures": reverse("work:cosignatures"),
        "absences": reverse("work:absences"),
        "bulk_panel": reverse("work:bulk_panel"),
        "bulk_export": reverse("work:bulk_export"),
    }
    district_viewers = {"office", "leader", "city_office", "city_leader"}
    cluster_viewers = district_viewers | {"lead"}
    expected = {
        # In scope, viewflow's process page is the application's dossier; its raw "cancel the process" is nobody's.
        "process": 302 if inside else 403,
        "process_cancel": 403,
        "chart": 200 if inside else 403,
        "task_detail": 200 if inside else 403,
        # Someone else's task: in scope a conflict that names the owner, out of scope a bare refusal.
        "task_execute": 200 if owner else (409 if inside else 403),
        "evidence_list": 200 if inside else 404,
        "evidence_download": 200 if inside else 404,
        "objection_form": 200 if inside else 404,
        "district_dashboard": 200 if actor in district_viewers else 403,
        "district_dashboard_data": 200 if actor in district_viewers else 403,
        "plan_targets": 200 if actor in district_viewers else 403,
        "city_dashboard": 200 if actor in {"city_office", "city_leader"} else 403,
        "evaluator_analytics": 200 if actor == "city_office" else 403,
        "public_publicity": 200,
        "public_verify": 200,
        # A cluster's data and self-check: its lead and the offices and leaders above it; others: no such cluster.
        "cluster_data": 200 if actor in cluster_viewers else 404,
        "cluster_dataset_template": 200 if actor in cluster_viewers else 404,
        "cluster_self_check": 200 if actor in cluster_viewers else 404,
        "district_readiness": 200 if actor in district_viewers else 403,
        # The holiday calendar is the administrators' alone.
        "holiday_calendar": 403,
        "holiday_calendar_template": 403,
        "task_transfer": 200 if owner else 403,
        "task_delegate": 200 if owner else 403,
        "task_cosign": 200 if owner else 403,
        "cosignatures": 200,
        "absences": 200,
        "bulk_panel": 200 if actor in OFFICES else 403,
        "bulk_export": 405,  # POST only
    }
    before = _snapshot(application)

    got = {name: client.get(url).status_code for name, url in views.items()}
    posts = {
        "task_submit": client.post(views["task_execute"], {"action": "submit", **scores(application, FULL)}),
        "task_recuse": client.post(views["task_execute"], {"action": "recuse", "reason": "试图越权"}),
        "objection": client.post(views["objection_form"], {"text": "越权异议"}),
        "transfer": client.post(views["task_transfer"], {"receiver": user.pk, "reason": "越权"}),
        "sign": client.post(reverse("work:cosignature_sign", args=[scene["cosignature"].pk]), {"decision": "agree"}),
        "absence_hand_over": client.post(reverse("work:absence_hand_over", args=[scene["absence"].pk])),
        "absence_cancel": client.post(reverse("work:absence_cancel", args=[scene["absence"].pk])),
        "bulk_panel": client.post(views["bulk_panel"], {"applications": [application.pk]}),
        "assign_panel": client.post(
            F.assign_evaluators.reverse(
                "assign", args=[process.pk, Task.objects.get(flow_task=F.assign_evaluators, process=process).pk]
            )
        ),
        "cluster_import": client.post(reverse("cluster_dataset_import", args=[application.cluster_id, "rotation"])),
    }

    calendar_day = CalendarDay.objects.order_by("date").first()
    calendar_before = sorted(CalendarDay.objects.values_list("date", "kind", "name"))
    calendar_posts = {
        "add": client.post(reverse("holiday_calendar_add"), {"date": "2027-05-03", "kind": "off", "name": "越权"}),
        "delete": client.post(reverse("holiday_calendar_delete", args=[calendar_day.pk])),
        "import": client.post(reverse("holiday_calendar_import"), {}),
    }

    assert got == expected
    assert {name: response.status_code for name, response in calendar_posts.items()} == dict.fromkeys(
        calendar_posts, 403
    )
    assert sorted(CalendarDay.objects.values_list("date", "kind", "name")) == calendar_before
    if not owner:
        assert before == _snapshot(application)
        assert {name: response.status_code for name, response in posts.items()} == {
            "task_submit": 409 if inside else 403,
            "task_recuse": 409 if inside else 403,
            # Objections are raised only during 公示; out of scope the application does not exist.
            "objection": 409 if inside else 404,
            "assign_panel": 409 if inside else 403,
            # Only the lead imports (a request without a workbook is refused as such); the office may not.
            "cluster_import": 400 if actor == "lead" else (403 if actor in cluster_viewers else 404),
            "transfer": 403,
            # Someone else's co-signature and absence do not exist for the user.
            "sign": 404,
            "absence_hand_over": 404,
            "absence_cancel": 404,
            # An office's form without a panel is refused as input; everyone else may not use the page.
            "bulk_panel": 400 if actor in OFFICES else 403,
        }
    # The office's bulk export (last: an allowed one writes a job and an audit row): only an office whose scope holds
    # the application gets a job; another office is refused, and so is everyone else.
    exported = client.post(views["bulk_export"], {"application": [application.pk]})
    may_export = actor in OFFICES and inside
    assert exported.status_code == (302 if may_export else 403)
    assert ExportJob.objects.filter(created_by=user).exists() == may_export
    if not inside:
        leaked = "".join(client.get(url).content.decode() for url in views.values())
        assert application.cluster.name not in leaked
        assert str(scene["actors"]["evaluator"]) not in leaked


def test_refusal_pages_are_chinese_and_never_500(scene):
    process, task = scene["process"], scene["task"]
    url = F.score.reverse("execute", args=[process.pk, task.pk])

    in_scope = client_for(scene["actors"]["leader"]).post(url, {"action": "recuse", "reason": "x"})
    out_of_scope = client_for(scene["actors"]["other_lead"]).post(url, {"action": "recuse", "reason": "x"})

    assert in_scope.status_code == 409
    assert f"此任务已由 {scene['actors']['evaluator']} 认领" in in_scope.content.decode()
    assert out_of_scope.status_code == 403
    assert "您无权办理此任务" in out_of_scope.content.decode()


def test_queue_shows_each_office_only_its_district(db):
    mine = build_world(Tier.CLOSE_KNIT)
    other = build_world(Tier.CLOSE_KNIT, city=mine.city)
    application, process = start(mine.lead, mine.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, mine.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(mine.lead, process, node)
    review = open_task(process, F.formal_review)

    mine_queue = Task.objects.queue([F], mine.office)
    other_queue = Task.objects.queue([F], other.office)
    lead_queue = Task.objects.queue([F], mine.lead)

    assert list(mine_queue) == [review]
    assert list(other_queue) == []
    assert list(lead_queue) == []
    page = client_for(other.office).get(reverse("workflow:queue")).content.decode()
    assert mine.cluster.name not in page


def test_revoked_grant_loses_an_assigned_task_on_the_next_request(db):
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    task = open_task(process, F.submit_basic)
    client = client_for(world.lead)
    # The cluster's only lead has the stage task assigned from the start (no claiming).
    assert (task.owner, task.status) == (world.lead, STATUS.ASSIGNED)
    url = F.submit_basic.reverse("execute", args=[process.pk, task.pk])
    assert client.get(url).status_code == 200

    revoke_role(world.lead.role_grants.get(role=Role.LEAD))

    assert client.get(url).status_code == 403
    assert Client().get(url).status_code in (302, 403)
    assert not world.lead.has_perm("certification.act_as_lead", application)


def test_leader_who_evaluated_cannot_take_the_approval_task(db):
    world = build_world(Tier.CLOSE_KNIT)
    evaluating_leader = person(Role.DISTRICT_LEADER, region=world.district, display_name="兼任专家的区领导")
    grant_role(evaluating_leader, Role.EVALUATOR)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(world.lead, process, node)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    panel = [evaluating_leader, *world.evaluators[:2]]
    do(world.office, process, F.assign_evaluators, {"evaluators": [e.pk for e in panel], "panel_lead": panel[1].pk})
    score_all(application, process, dict.fromkeys(panel, FULL))
    task = open_task(process, F.district_decision)

    refused = client_for(evaluating_leader).post(F.district_decision.reverse("assign", args=[process.pk, task.pk]))

    assert refused.status_code == 403
    assert "您参与了该申报的评估，不能再审批该申报。" in refused.content.decode()
    task.refresh_from_db()
    assert task.owner is None
    do(world.leader, process, F.district_decision, {"decision": "approve"})
    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY
