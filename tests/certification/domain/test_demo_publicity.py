"""The demo shortcut that ends a 公示 at once: only in DEMO_MODE, only for the responsible office."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from certification.domain.roles import ensure_groups
from certification.errors import NotAllowed
from certification.models import Application, AuditEvent, Certificate, Tier
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for, do
from tests.workflows.work_pages.helpers import to_approval
from workflows.engine import end_publicity_now_for_demo
from workflows.flows import CertificationFlow as F

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def role_groups(db):
    reverse("workflow:inbox")
    return ensure_groups()


def in_publicity():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_approval(world)
    do(world.leader, process, F.district_decision, {"decision": "approve", "comment": "同意"})
    application.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY
    timer = Task.objects.get(process=process, flow_task=F.publicity, status=STATUS.SCHEDULED)
    return world, application, process, timer


def test_end_publicity_now_for_demo_certifies_when_no_objection():
    world, application, process, timer = in_publicity()
    assert timer.scheduled - timezone.now() > timedelta(days=6)

    fired = end_publicity_now_for_demo(application, by=world.office)

    application.refresh_from_db()
    process.refresh_from_db()
    timer.refresh_from_db()
    assert fired == 1
    assert timer.status == STATUS.DONE
    assert application.status == Application.Status.CERTIFIED
    assert process.status == PROCESS.DONE
    assert Certificate.objects.get(application=application).tier == Tier.CLOSE_KNIT
    shortened = AuditEvent.objects.get(application=application, action="demo.publicity_shortened")
    assert shortened.actor == world.office
    assert shortened.reason == "演示快捷操作：提前结束公示期，演示无需等待公示天数。"


@override_settings(DEMO_MODE=False)
def test_end_publicity_now_for_demo_refused_outside_demo_mode_and_nothing_changes():
    world, application, _process, timer = in_publicity()

    with pytest.raises(NotAllowed):
        end_publicity_now_for_demo(application, by=world.office)

    application.refresh_from_db()
    timer.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY
    assert timer.status == STATUS.SCHEDULED and timer.scheduled - timezone.now() > timedelta(days=6)
    assert not AuditEvent.objects.filter(action="demo.publicity_shortened").exists()


def test_end_publicity_now_for_demo_refused_to_the_lead_and_nothing_changes():
    world, application, _process, timer = in_publicity()

    with pytest.raises(NotAllowed):
        end_publicity_now_for_demo(application, by=world.lead)

    application.refresh_from_db()
    timer.refresh_from_db()
    assert application.status == Application.Status.PUBLICITY
    assert timer.status == STATUS.SCHEDULED and timer.scheduled - timezone.now() > timedelta(days=6)
    assert not AuditEvent.objects.filter(action="demo.publicity_shortened").exists()


def test_end_publicity_button_shown_in_demo_mode_and_certifies_over_http():
    world, application, _process, _timer = in_publicity()
    client = client_for(world.office)
    desk = client.get(reverse("work:office")).content.decode()
    url = reverse("work:end_publicity", args=[application.pk])
    assert 'data-test="end-publicity"' in desk and url in desk

    response = client.post(url)

    application.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == reverse("work:office")
    assert application.status == Application.Status.CERTIFIED


@override_settings(DEMO_MODE=False)
def test_end_publicity_button_hidden_and_refused_outside_demo_mode():
    world, application, _process, timer = in_publicity()
    client = client_for(world.office)
    desk = client.get(reverse("work:office")).content.decode()
    url = reverse("work:end_publicity", args=[application.pk])
    assert 'data-test="end-publicity"' not in desk

    response = client.post(url)

    application.refresh_from_db()
    timer.refresh_from_db()
    assert response.status_code == 403
    assert application.status == Application.Status.PUBLICITY and timer.status == STATUS.SCHEDULED


def test_end_publicity_over_http_refused_to_the_lead():
    world, application, _process, timer = in_publicity()

    response = client_for(world.lead).post(reverse("work:end_publicity", args=[application.pk]))

    application.refresh_from_db()
    timer.refresh_from_db()
    assert response.status_code == 403
    assert application.status == Application.Status.PUBLICITY and timer.status == STATUS.SCHEDULED


def test_end_publicity_over_http_refused_to_the_leader_and_hidden_from_another_districts_office():
    world, application, _process, timer = in_publicity()
    other = build_world(Tier.CLOSE_KNIT, city=world.city)
    url = reverse("work:end_publicity", args=[application.pk])

    by_leader = client_for(world.leader).post(url)
    by_other_office = client_for(other.office).post(url)

    application.refresh_from_db()
    timer.refresh_from_db()
    assert (by_leader.status_code, by_other_office.status_code) == (403, 404)
    assert world.cluster.name not in by_other_office.content.decode()
    assert application.status == Application.Status.PUBLICITY and timer.status == STATUS.SCHEDULED
    assert not AuditEvent.objects.filter(action="demo.publicity_shortened").exists()


@override_settings(DEMO_MODE=True)
def test_office_desk_shows_the_publicity_end_date_and_asks_before_ending_early():
    world, application, _process, timer = in_publicity()
    client = client_for(world.office)
    url = reverse("work:end_publicity", args=[application.pk])

    desk = client.get(reverse("work:office")).content.decode()
    confirm = client.get(url)

    ends = timezone.localtime(timer.scheduled).strftime("%Y-%m-%d %H:%M")
    assert f'data-test="publicity-ends">{ends}</td>' in desk
    assert "Celery" not in desk and "计时器" not in desk
    assert f'href="{url}"' in desk
    application.refresh_from_db()
    assert confirm.status_code == 200 and application.status == Application.Status.PUBLICITY
    page = confirm.content.decode()
    assert f"确定现在结束 {world.cluster.name}（紧密型）的公示吗？" in page
    assert f"否则将于 {ends} 结束。" in page
