"""The e-mail task retries transient SMTP failures with backoff and jitter, then records that it gave up."""

import smtplib

import pytest
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import override_settings

from certification.models import Notification
from certification.tasks import task_send_notification_email
from project.celery import app as celery_app
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def eager_retries():
    """Eager mode runs a retry at once only when it does not propagate errors (celery re-raises Retry otherwise),
    so these tests see every attempt a worker would make, without its waits."""
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = True


class FailsTwiceBackend(LocmemBackend):
    """An SMTP server that drops the first two connections, then accepts."""

    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).calls <= 2:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class AlwaysFailsBackend(LocmemBackend):
    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        raise ConnectionRefusedError(111, "Connection refused")


@pytest.fixture
def notification():
    user = UserFactory(email="office@example.cn")
    return Notification.objects.create(recipient=user, subject="请分配评估员", body="天平-湖南学区已通过形式审查。")


@override_settings(EMAIL_BACKEND="tests.certification.domain.test_email_retry.FailsTwiceBackend")
def test_email_failing_twice_is_sent_on_the_third_try(notification):
    FailsTwiceBackend.calls = 0

    result = task_send_notification_email.delay(notification_id=notification.pk)

    assert result.get() is True
    assert FailsTwiceBackend.calls == 3
    assert [(m.subject, m.to) for m in mail.outbox] == [("请分配评估员", ["office@example.cn"])]
    notification.refresh_from_db()
    assert notification.emailed is not None
    assert notification.email_attempts == 2
    assert notification.email_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert notification.email_failed is None


@override_settings(EMAIL_BACKEND="tests.certification.domain.test_email_retry.AlwaysFailsBackend")
def test_email_always_failing_is_given_up_after_the_retries_and_recorded(notification):
    AlwaysFailsBackend.calls = 0

    result = task_send_notification_email.delay(notification_id=notification.pk)

    assert result.state == "FAILURE"
    assert isinstance(result.result, ConnectionRefusedError)

    assert AlwaysFailsBackend.calls == settings.EMAIL_MAX_RETRIES + 1
    assert mail.outbox == []
    notification.refresh_from_db()
    assert notification.emailed is None
    assert notification.email_attempts == settings.EMAIL_MAX_RETRIES + 1
    assert notification.email_error == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert notification.email_failed is not None
    assert list(Notification.objects.email_failed()) == [notification]


def test_email_retry_waits_grow_exponentially_with_full_jitter_up_to_the_cap():
    task = task_send_notification_email
    assert (task.max_retries, task.retry_backoff, task.retry_jitter) == (5, 30, True)
    assert task.retry_backoff_max == 3600
    # What celery's autoretry computes for retry n: a random wait in [0, min(cap, 30·2ⁿ)].
    for retries, ceiling in [(0, 30), (1, 60), (3, 240), (10, 3600)]:
        waits = {
            get_exponential_backoff_interval(
                factor=task.retry_backoff, retries=retries, maximum=task.retry_backoff_max, full_jitter=True
            )
            for _ in range(200)
        }
        assert max(waits) <= ceiling
        assert len(waits) > 1
