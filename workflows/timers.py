"""Firing due workflow timers (the 公示 period). Celery beat and `manage.py fire_timers` both call this."""

from viewflow.workflow.timers import fire_due_timers as _fire_viewflow_timers


def fire_due_timers():
    """Fire every due viewflow Timer task; returns how many fired.

    Safe to run twice and from several workers: each task is re-checked under its process lock
    (select-for-update), and a timer already fired is no longer SCHEDULED.
    """
    return _fire_viewflow_timers()
