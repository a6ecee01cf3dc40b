"""Celery tasks. Each is thin: fetch by id, return quietly if the object is gone, call the domain.

Tasks are queued with ``transaction.on_commit`` by the domain; beat runs the periodic ones
(``CELERY_BEAT_SCHEDULE`` in project/settings.py). Every task is safe to run twice.
"""

from celery import shared_task

from certification.datasets.tasks import task_import_dataset
from certification.domain import audit, notify
from certification.domain.datasets import sweep_stale_imports
from certification.domain.retention import sweep_storage
from certification.excel.summary_export import sweep_stale_exports, task_build_export
from certification.models import Notification

# Celery's autodiscovery loads this module only: tasks defined beside their domain are registered by importing them.
__all__ = ["task_build_export", "task_import_dataset"]


@shared_task(name="certification.send_notification_email")
def task_send_notification_email(*, notification_id):
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return False
    return notify.send_notification_email(notification)


@shared_task(name="certification.send_deadline_reminders")
def task_send_deadline_reminders():
    return notify.send_deadline_reminders()


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
