"""Celery tasks of the workflow engine (found by Celery's autodiscovery). Thin: they call `workflows.engine`."""

from celery import shared_task

from .engine import fire_due_timers, send_task_deadline_notices


# The name stays "certification.…": beat's schedule (project/settings.py) and queued messages use it.
@shared_task(name="certification.fire_due_timers")
def task_fire_due_timers():
    return fire_due_timers()


@shared_task(name="certification.send_task_deadline_notices")
def task_send_task_deadline_notices():
    return send_task_deadline_notices()
