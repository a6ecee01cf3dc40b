"""Celery tasks of the workflow engine (found by Celery's autodiscovery). Thin: they call `workflows.engine`."""

from celery import shared_task

from .engine import fire_due_timers


# The name stays "certification.…": beat's schedule (project/settings.py) and queued messages use it.
@shared_task(name="certification.fire_due_timers")
def task_fire_due_timers():
    return fire_due_timers()
