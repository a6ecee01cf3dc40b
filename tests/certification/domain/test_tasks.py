import io
import time
import uuid
from datetime import date, timedelta

import pytest
from celery.result import EagerResult
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from certification.domain import notify
from certification.models import Notification, SentReminder
from certification.tasks import task_send_deadline_reminders, task_send_notification_email
from project.celery import app as celery_app
from tests.factories import UserFactory
from tests.factories.work import ApplicationFactory, correction, lead_of, office_of


@pytest.mark.django_db
def test_task_send_notification_email_gone_returns_quietly():
    result = task_send_notification_email.delay(notification_id=987654)

    assert result.get() is False
    assert mail.outbox == []


@pytest.mark.django_db
def test_task_send_notification_email_run_twice_sends_once():
    user = UserFactory(email="lead@example.cn")
    notification = Notification.objects.create(recipient=user, subject="补正提醒", body="请于5月10日前提交。")

    first = task_send_notification_email.delay(notification_id=notification.pk).get()
    second = task_send_notification_email.delay(notification_id=notification.pk).get()

    assert (first, second) == (True, False)
    assert [(m.subject, m.to) for m in mail.outbox] == [("补正提醒", ["lead@example.cn"])]


@pytest.fixture
def overdue_correction(db):
    application = ApplicationFactory(status="correction")
    lead = lead_of(application.cluster, email="lead@example.cn")
    office = office_of(application.cluster.district)
    return correction(application, deadline=timezone.localdate() - timedelta(days=1), by=office), lead


def test_task_send_deadline_reminders_run_twice_sends_once(overdue_correction, django_capture_on_commit_callbacks):
    _request, lead = overdue_correction

    with django_capture_on_commit_callbacks(execute=True):
        first = task_send_deadline_reminders.delay().get()
        second = task_send_deadline_reminders.delay().get()

    assert (first, second) == (1, 0)
    assert Notification.objects.filter(recipient=lead).count() == 1
    assert [m.to for m in mail.outbox] == [["lead@example.cn"]]


def test_send_reminders_command_run_twice_sends_once(overdue_correction):
    _request, lead = overdue_correction

    first, second = io.StringIO(), io.StringIO()

    call_command("send_reminders", stdout=first)
    call_command("send_reminders", stdout=second)

    assert (first.getvalue().strip(), second.getvalue().strip()) == ("已发送提醒：1 条", "已发送提醒：0 条")
    assert SentReminder.objects.count() == 1
    assert Notification.objects.filter(recipient=lead).count() == 1


needs_services = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL or connection.vendor != "postgresql",
    reason="needs a real broker (CELERY_BROKER_URL) and PostgreSQL; runs in .ci/run's second pass",
)


@pytest.fixture
def real_worker():
    """A Celery worker thread on the real broker, eager mode off, on a queue of its own (no stale messages)."""
    from celery.contrib.testing.worker import start_worker

    queue = f"xqrz-test-{uuid.uuid4().hex[:8]}"
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "task_default_queue")}
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30):
            yield
    finally:
        celery_app.conf.update(saved)


def _wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.services
@needs_services
@pytest.mark.django_db(transaction=True)
def test_real_worker_sends_queued_email_once_after_commit(real_worker):
    user = UserFactory(email="lead@example.cn")

    notify.notify([user], "形式审查已通过", "请等待专家评审。")
    emailed = _wait_for(lambda: Notification.objects.filter(recipient=user, emailed__isnull=False).exists())
    task_send_notification_email.delay(notification_id=Notification.objects.get(recipient=user).pk)
    time.sleep(1)

    assert emailed
    assert [(m.subject, m.to) for m in mail.outbox] == [("形式审查已通过", ["lead@example.cn"])]


@pytest.mark.services
@needs_services
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_reminders_task(real_worker):
    application = ApplicationFactory(status="correction")
    lead = lead_of(application.cluster)
    correction(application, deadline=date.today() + timedelta(days=1), by=office_of(application.cluster.district))

    result = task_send_deadline_reminders.delay()

    assert not isinstance(result, EagerResult)
    assert _wait_for(lambda: SentReminder.objects.filter(application=application).exists())
    assert Notification.objects.filter(recipient=lead, application=application).count() == 1
