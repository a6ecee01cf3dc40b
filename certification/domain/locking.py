"""The application a request reads under lock once, at the start of a task's POST, and hands to the step it runs.

A task's POST (workflows.nodes.TaskView) reads the application to check the task's permission, then the domain
step locks and reads it again (`_steps._lock`). Inside `steps_in_request()`, `application_for_step` reads it locked
at once and keeps it; the first step that locks it takes that row instead of reading it a second time. A step
takes it once: after a step has changed the row, the next one reads it again. Outside, both read as before.

Only for use inside a transaction that lasts as long as the scope (the process lock's): the row lock is held to
its end, so the kept row cannot have changed under the request in between.
"""

import copy
from contextlib import contextmanager
from contextvars import ContextVar

from certification.models import Application

# {application pk: the instance read under lock}, inside `steps_in_request`; None outside.
_kept = ContextVar("applications_kept_for_steps", default=None)


def _with_places(queryset):
    # What the task pages and the steps read of an application: its cluster, district, city and standard.
    return queryset.select_related("cluster__district__parent", "standard")


@contextmanager
def steps_in_request():
    """The scope of one task POST, inside its transaction."""
    token = _kept.set({})
    try:
        yield
    finally:
        _kept.reset(token)


def application_for_step(pk):
    """The application `pk` (None if gone): inside `steps_in_request`, read locked and kept for the step."""
    kept = _kept.get()
    if kept is None:
        return _by_pk(_with_places(Application.objects), pk)
    # Lock the application row only: the district's city is a nullable (outer) join PostgreSQL cannot lock.
    application = _by_pk(_with_places(Application.objects.select_for_update(of=("self",))), pk)
    if application is not None:
        kept[pk] = application
    return application


def _by_pk(queryset, pk):
    # `get` rather than `first`: one row by its key needs no ORDER BY, which costs the ORM a quarter of compiling
    # this read (the model orders by creation).
    try:
        return queryset.get(pk=pk)
    except Application.DoesNotExist:
        return None


def lock_application(pk):
    """The application `pk` read under lock for a step: the kept row when this request read it so and no step has
    taken it yet (a copy: the caller's instance stays as it was), else a new read."""
    kept = _kept.get()
    if kept is not None and pk in kept:
        return copy.copy(kept.pop(pk))
    return _with_places(Application.objects.select_for_update(of=("self",))).get(pk=pk)
