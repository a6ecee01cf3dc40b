"""Queueing a Celery task by its name once the transaction commits.

The domain names the task (`certification.send_notification_email`, `certification.build_export`, …) instead of
importing the module that defines it: those modules import the domain, so importing them back would be a cycle.
`CertificationConfig.ready` imports `certification.tasks`, so every task is registered in every process and an
eager (inline) run still takes the task's own path.
"""

from celery import current_app
from django.db import transaction


def after_commit(task_name, **kwargs):
    """Queue `task_name` with keyword arguments `kwargs` when the current transaction commits."""
    transaction.on_commit(lambda: current_app.signature(task_name, kwargs=kwargs).delay())
