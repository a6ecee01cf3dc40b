"""Celery tasks. Each is thin: fetch by id, return quietly if the object is gone, call the domain.

Tasks are queued with ``transaction.on_commit`` by the domain; beat runs the periodic ones
(``CELERY_BEAT_SCHEDULE`` in project/settings.py). Every task is safe to run twice.
"""

from celery import shared_task

from certification.datasets.tasks import task_import_dataset, task_sweep_stale_claims
from certification.domain import notify
from certification.excel.summary_export import task_build_export
from certification.models import Notification

# Celery's autodiscovery loads this module only: tasks defined beside their domain are registered by importing them.
__all__ = ["task_build_export", "task_import_dataset", "task_sweep_stale_claims"]


@shared_task(name="certification.send_notification_email")
def task_send_notification_email(*, notification_id):
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return False
    return notify.send_notification_email(notification)


@shared_task(name="certification.fire_due_timers")
def task_fire_due_timers():
    from workflows.timers import fire_due_timers

    return fire_due_timers()


@shared_task(name="certification.send_deadline_reminders")
def task_send_deadline_reminders():
    return notify.send_deadline_reminders()
