from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.core import mail

from certification.domain import notify
from certification.domain.roles import revoke_role
from certification.models import EvaluatorAssignment, Notification, RoleGrant, SentReminder
from tests.factories import ClusterFactory, DistrictFactory, UserFactory
from tests.factories.work import ApplicationFactory, assign, correction, lead_of, leader_of, office_of

pytestmark = pytest.mark.django_db


def test_notify_one_row_per_active_recipient(django_capture_on_commit_callbacks):
    with_mail = UserFactory(email="lead@example.cn")
    without_mail = UserFactory(email="")
    inactive = UserFactory(email="gone@example.cn", is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        created = notify.notify([with_mail, without_mail, with_mail, None, inactive], "材料已提交", "正文")

    assert sorted(n.recipient_id for n in created) == sorted([with_mail.pk, without_mail.pk])
    assert Notification.objects.filter(recipient=inactive).count() == 0
    assert Notification.objects.filter(recipient=with_mail, subject="材料已提交", body="正文").count() == 1


def test_notify_emails_each_addressed_recipient_once(django_capture_on_commit_callbacks):
    first = UserFactory(email="a@example.cn")
    second = UserFactory(email="b@example.cn")
    silent = UserFactory(email="")
    application = ApplicationFactory()

    with django_capture_on_commit_callbacks(execute=True):
        notify.notify([first, second, silent], "形式审查通过", "请等待评审。", application=application, url="/work/x/")

    assert sorted(message.to[0] for message in mail.outbox) == ["a@example.cn", "b@example.cn"]
    assert {message.subject for message in mail.outbox} == {"形式审查通过"}
    assert mail.outbox[0].body == "请等待评审。\n\n/work/x/"
    assert Notification.objects.filter(emailed__isnull=False).count() == 2
    assert Notification.objects.get(recipient=silent).emailed is None


def test_send_notification_email_twice_sends_once(django_capture_on_commit_callbacks):
    user = UserFactory(email="a@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notify.notify([user], "提醒")

    sent_again = notify.send_notification_email(notification)

    assert sent_again is False
    assert len(mail.outbox) == 1


def test_notify_no_mail_before_commit(django_capture_on_commit_callbacks):
    user = UserFactory(email="a@example.cn")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify.notify([user], "提醒")

    assert len(callbacks) == 1
    assert mail.outbox == []


def test_notify_nobody_creates_nothing():
    assert notify.notify([None], "提醒") == []
    assert Notification.objects.count() == 0


def test_leads_of_only_active_grants_of_that_cluster():
    cluster, other = ClusterFactory(), ClusterFactory()
    lead = lead_of(cluster)
    revoked = lead_of(cluster)
    lead_of(other)
    revoke_role(RoleGrant.objects.get(user=revoked))

    assert notify.leads_of(cluster) == [lead]


def test_district_people_by_role_and_district():
    district, other = DistrictFactory(), DistrictFactory()
    office = office_of(district)
    leader = leader_of(district)
    office_of(other)

    assert notify.district_office_of(district) == [office]
    assert notify.district_leaders_of(district) == [leader]


def test_city_people_by_role_and_city():
    from certification.models import Role
    from tests.factories.work import person

    district = DistrictFactory()
    city = district.parent
    office = person(Role.CITY_OFFICE, region=city)
    leader = person(Role.CITY_LEADER, region=city)

    assert notify.city_office_of(city) == [office]
    assert notify.city_leaders_of(city) == [leader]


def test_panel_of_excludes_recused_evaluators():
    application = ApplicationFactory()
    office = office_of(application.cluster.district)
    staying = assign(application, by=office)
    leaving = assign(application, by=office)
    leaving.status = EvaluatorAssignment.Status.RECUSED
    leaving.save(update_fields=["status"])
    assign(ApplicationFactory(), by=office)

    assert notify.panel_of(application) == [staying.evaluator]


@pytest.fixture
def returned(db):
    application = ApplicationFactory(status="correction")
    lead = lead_of(application.cluster, email="lead@example.cn")
    office = office_of(application.cluster.district, email="office@example.cn")
    request = correction(application, deadline=date(2026, 5, 10), by=office)
    return SimpleNamespace(application=application, lead=lead, office=office, request=request)


def test_reminders_due_soon_sent_once(returned, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = notify.send_deadline_reminders(today=date(2026, 5, 8))
    with django_capture_on_commit_callbacks(execute=True):
        second = notify.send_deadline_reminders(today=date(2026, 5, 9))

    assert (first, second) == (1, 0)
    assert [n.recipient for n in Notification.objects.all()] == [returned.lead]
    assert [message.to for message in mail.outbox] == [["lead@example.cn"]]
    assert "2026-05-10" in mail.outbox[0].subject
    assert SentReminder.objects.get().kind == SentReminder.Kind.DUE_SOON


def test_reminders_not_sent_early(returned):
    assert notify.send_deadline_reminders(today=date(2026, 5, 6)) == 0
    assert Notification.objects.count() == 0


def test_reminders_overdue_notice_once_to_lead_and_office(returned, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = notify.send_deadline_reminders(today=date(2026, 5, 11))
        second = notify.send_deadline_reminders(today=date(2026, 5, 12))

    assert (first, second) == (1, 0)
    assert sorted(n.recipient_id for n in Notification.objects.all()) == sorted([returned.lead.pk, returned.office.pk])
    assert sorted(message.to[0] for message in mail.outbox) == ["lead@example.cn", "office@example.cn"]
    assert SentReminder.objects.get().kind == SentReminder.Kind.OVERDUE


def test_reminders_none_for_resolved_request(returned):
    returned.request.resolved = returned.request.created
    returned.request.save(update_fields=["resolved"])

    assert notify.send_deadline_reminders(today=date(2026, 5, 11)) == 0


def test_reminders_none_for_closed_application(returned):
    returned.application.status = "withdrawn"
    returned.application.save(update_fields=["status"])

    assert notify.send_deadline_reminders(today=date(2026, 5, 11)) == 0


def test_reminders_moved_deadline_reminds_again(returned):
    notify.send_deadline_reminders(today=date(2026, 5, 9))
    returned.request.deadline = returned.request.deadline + timedelta(days=7)
    returned.request.save(update_fields=["deadline"])

    sent = notify.send_deadline_reminders(today=date(2026, 5, 15))

    assert sent == 1
    assert Notification.objects.filter(recipient=returned.lead).count() == 2
