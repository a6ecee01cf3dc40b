"""Celery tasks. Each is thin: fetch by id, return quietly if the object is gone, call the domain.

Tasks are queued with ``transaction.on_commit`` by the domain; beat runs the periodic ones
(``CELERY_BEAT_SCHEDULE`` in project/settings.py). Every task is safe to run twice.
"""

import smtplib

from celery import Task, shared_task
from django.conf import settings

from certification.datasets.tasks import task_import_dataset
from certification.domain import audit, notify, tiers
from certification.domain.datasets import sweep_stale_imports
from certification.domain.retention import sweep_storage
from certification.excel.summary_export import sweep_stale_exports, task_build_export
from certification.models import Notification

# Celery's autodiscovery loads this module only: tasks defined beside their domain are registered by importing them.
__all__ = ["task_build_export", "task_import_dataset"]


# What an SMTP server or the network may fail with and succeed on a later try (refused recipients, auth errors
# and the like are SMTPException too: they are retried as well and end in the admin's list of failed e-mails).
TRANSIENT_EMAIL_ERRORS = (smtplib.SMTPException, OSError)


class EmailTask(Task):
    """Retries transient failures with exponential backoff and full jitter, then records the failure."""

    autoretry_for = TRANSIENT_EMAIL_ERRORS
    max_retries = settings.EMAIL_MAX_RETRIES
    retry_backoff = settings.EMAIL_RETRY_BACKOFF_SECONDS
    retry_backoff_max = settings.EMAIL_RETRY_BACKOFF_MAX_SECONDS
    retry_jitter = True

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        notify.record_email_failure(kwargs.get("notification_id"), exc, final=False)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        notify.record_email_failure(kwargs.get("notification_id"), exc, final=True)


@shared_task(base=EmailTask, name="certification.send_notification_email")
def task_send_notification_email(*, notification_id):
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return False
    return notify.send_notification_email(notification)


@shared_task(name="certification.send_deadline_reminders")
def task_send_deadline_reminders():
    return notify.send_deadline_reminders()


@shared_task(name="certification.run_tier_timers")
def task_run_tier_timers():
    """Certificates past their validity end (到期); 90/30-day expiry reminders go out once each (beat, hourly).

    Without beat, `manage.py fire_timers` and the office's timer button run the same function.
    """
    expired, reminded = tiers.run_tier_timers()
    return {"expired": expired, "reminded": reminded}


@shared_task(name="certification.sweep_storage")
def task_sweep_storage():
    result = sweep_storage()
    return {"workbooks": len(result.workbooks_removed), "orphans": len(result.orphans_removed)}


@shared_task(name="certification.verify_and_anchor_audit")
def task_verify_and_anchor_audit():
    return len(audit.verify_and_anchor())


def recover_interrupted_work():
    """Sweep stale imports and exports; (restarted, failed) counts summed. Beat, `fire_timers` and the button."""
    counts = [sweep_stale_imports(), sweep_stale_exports()]
    return sum(count[0] for count in counts), sum(count[1] for count in counts)


@shared_task(name="certification.sweep_stale_claims")
def task_sweep_stale_claims():
    """Restart or fail the imports and exports whose workers died (beat, every minute)."""
    return recover_interrupted_work()
