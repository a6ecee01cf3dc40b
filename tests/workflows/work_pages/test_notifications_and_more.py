"""The work pages over HTTP: notifications, the take button, failures, certificates, English and exports."""

import pytest
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.models import Application, Notification, Tier
from tests.factories import UserFactory
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for, do, end_publicity
from tests.workflows.work_pages.helpers import (
    count_queries,
    new_notification,
    page_text,
    to_approval,
    to_formal_review,
)
from workflows.flows import CertificationFlow as F

pytestmark = [pytest.mark.django_db]


# ------------------------------------------------------------------------------------------- notifications


def test_notifications_page_lists_only_own(client, reader):
    new_notification(reader, "形式审查已通过")
    new_notification(UserFactory(), "别人的通知：东孚一学区评审结果")

    text = page_text(client.get(reverse("work:notifications")))

    assert "形式审查已通过" in text
    assert "别人的通知" not in text


def test_bell_shows_unread_count(client, reader):
    new_notification(reader, "一")
    new_notification(reader, "二")
    read = new_notification(reader, "三")
    Notification.objects.filter(pk=read.pk).update(read=read.created)

    text = page_text(client.get(reverse("work:notifications")))

    assert 'data-unread="2"' in text
    assert "2 条未读通知" in text


def test_bell_on_workflow_pages_too():
    world = build_world(Tier.CLOSE_KNIT)
    new_notification(world.lead, "一")

    text = page_text(client_for(world.lead).get(reverse("workflow:inbox")))

    assert 'data-unread="1"' in text


def test_notifications_mark_read_own(client, reader):
    notification = new_notification(reader, "一")

    response = client.post(reverse("work:notification_read", args=[notification.pk]))

    notification.refresh_from_db()
    assert response.status_code == 302
    assert notification.read is not None


def test_notifications_mark_read_of_another_is_404_and_unchanged(client, reader):
    other = new_notification(UserFactory(), "别人的通知")

    response = client.post(reverse("work:notification_read", args=[other.pk]))

    other.refresh_from_db()
    assert response.status_code == 404
    assert other.read is None
    assert "别人的通知" not in response.content.decode()


def test_notifications_mark_all_read_leaves_others_alone(client, reader):
    new_notification(reader, "一")
    new_notification(reader, "二")
    other = new_notification(UserFactory(), "别人的通知")

    client.post(reverse("work:notifications_read_all"))

    assert Notification.objects.filter(recipient=reader, read__isnull=True).count() == 0
    other.refresh_from_db()
    assert other.read is None


def test_notification_open_marks_read_and_follows_local_link(client, reader):
    notification = new_notification(reader, "一", url="/work/applications/")

    response = client.post(reverse("work:notification_open", args=[notification.pk]))

    notification.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == "/work/applications/"
    assert notification.read is not None


def test_notification_open_refuses_foreign_link(client, reader):
    notification = new_notification(reader, "一", url="https://evil.example/phish")

    response = client.get(reverse("work:notification_open", args=[notification.pk]))

    assert response["Location"] == reverse("work:notifications")


def test_notifications_page_query_count_constant(client, reader, django_assert_num_queries):
    new_notification(reader, "第1条")
    url = reverse("work:notifications")
    one = count_queries(client, url)
    for number in range(2, 31):
        new_notification(reader, f"第{number}条")

    with django_assert_num_queries(one):
        response = client.get(url)

    assert page_text(response).count("/open/") == 30


def test_steps_notify_the_people_concerned_with_link_to_dossier():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_formal_review(world)

    office_notes = Notification.objects.filter(recipient=world.office, application=application)

    assert office_notes.exists()
    assert all(note.url == reverse("work:application_detail", args=[application.pk]) for note in office_notes)
    assert not Notification.objects.filter(recipient=world.evaluators[0]).exists()


def test_take_button_assigns_queue_task_and_opens_its_form():
    world = build_world(Tier.CLOSE_KNIT)
    _application, process = to_formal_review(world)
    task = Task.objects.get(process=process, flow_task=F.formal_review)
    client = client_for(world.office)
    text = page_text(client.get(reverse("work:office")))
    execute = F.formal_review.reverse("execute", args=[process.pk, task.pk])
    take = f"{F.formal_review.reverse('assign', args=[process.pk, task.pk])}?back={execute.replace('/', '%2F')}"
    assert f'action="{take}"' in text

    response = client.post(take)

    task.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == execute
    assert (task.status, task.owner) == (STATUS.ASSIGNED, world.office)


def test_application_detail_failed_shows_rectification_list():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_approval(world, values={"A1": 4, "A2": 1})
    assert application.status == Application.Status.FAILED

    text = page_text(client_for(world.lead).get(reverse("work:application_detail", args=[application.pk])))

    assert 'data-test="rectification"' in text
    assert "一票否决指标未达标。" in text
    assert "A2 教师交流轮岗" in text


def test_mine_shows_certificate_of_certified_application():
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_approval(world)
    do(world.leader, process, F.district_decision, {"decision": "approve"})
    end_publicity(process, world.standard.publicity_days)

    text = page_text(client_for(world.lead).get(reverse("work:mine")))

    assert f"证书 {application.certificate.serial}" in text
    assert "当前等级：紧密型" in text


def test_mine_switches_to_english():
    world = build_world(Tier.CLOSE_KNIT)
    client = client_for(world.lead)
    client.cookies["django_language"] = "en"

    text = page_text(client.get(reverse("work:mine")))

    assert "My applications" in text
    assert "Apply for Close-knit" in text
    assert "我的申报" not in text


def test_application_detail_offers_summary_export_to_office_not_lead():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_approval(world)
    url = reverse("work:application_detail", args=[application.pk])
    export_url = reverse("export_application", args=[application.pk])

    office_text = page_text(client_for(world.office).get(url))
    lead_text = page_text(client_for(world.lead).get(url))

    assert export_url in office_text
    assert export_url not in lead_text


def test_office_desk_offers_its_district_summary_export():
    world = build_world(Tier.CLOSE_KNIT)

    text = page_text(client_for(world.office).get(reverse("work:office")))

    assert reverse("export_district", args=[world.cluster.district.pk]) in text
    assert f"导出{world.cluster.district}全部申报汇总" in text
