"""The workflow engine calls the API shares with the task pages, in one place.

A task is claimed and completed by calling the very view the task page posts to (viewflow's wrapped task view,
with the flow lock, the node's permission and exclusion checks, the form and the domain call), with the API's
payload as the form data. So the API takes the same payload as the page and no rule exists twice; a refusal the
page would show on its form comes back as field errors.

When the engine code moves (workflows/engine.py), only this module changes.
"""

import copy
from dataclasses import dataclass, field

from django.contrib.messages import constants as message_levels
from django.http import QueryDict
from django.urls import resolve, reverse
from django.utils.datastructures import MultiValueDict
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from viewflow.workflow.status import STATUS

from certification.models import Application
from workflows.flows import CertificationFlow
from workflows.queues import open_tasks_of

FORM_CONTEXT_KEYS = ("form", "sheet_form", "recuse_form")
REDIRECTS = {301, 302, 303}


class _CollectedMessages(list):
    """Stands in for django.contrib.messages' storage: the API returns the messages instead of storing them."""

    def add(self, level, message, extra_tags=""):
        self.append((level, str(message)))


@dataclass
class Outcome:
    """What a page's POST did: `ok`, else the status and message it answered with and the errors per field."""

    ok: bool
    status: int = 200
    message: str = ""
    fields: dict = field(default_factory=dict)
    activation: object = None


def _as_form_data(data):
    """JSON or form data as the QueryDict a page's form reads: lists become repeated keys."""
    if isinstance(data, QueryDict):
        return data
    form_data = QueryDict(mutable=True)
    for key, value in (data or {}).items():
        values = value if isinstance(value, list) else [value]
        form_data.setlist(str(key), ["" if item is None else str(item) for item in values])
    return form_data


def _form_errors(response):
    context = getattr(response, "context_data", None) or {}
    fields = {}
    for key in FORM_CONTEXT_KEYS:
        form = context.get(key)
        if form is None or not getattr(form, "is_bound", False):
            continue
        for name, errors in form.errors.get_json_data().items():
            target = "non_field_errors" if name == "__all__" else name
            fields.setdefault(target, []).extend(error["message"] for error in errors)
    return fields


def post_to_page(request, url, data):
    """POST `data` to the page at `url` as `request.user`, calling the page's own view; returns an Outcome."""
    match = resolve(url)
    inner = copy.copy(request._request)
    inner.method = "POST"
    inner.path = inner.path_info = url
    inner.resolver_match = match
    inner.GET = QueryDict()
    inner.POST = _as_form_data(data)
    inner._files = MultiValueDict()
    inner._messages = messages = _CollectedMessages()
    response = match.func(inner, *match.args, **match.kwargs)
    errors = [text for level, text in messages if level >= message_levels.ERROR]
    activation = getattr(inner, "activation", None)
    if response.status_code in REDIRECTS and not errors:
        # Viewflow's own messages carry a link to the task page: the API answers text.
        done = [strip_tags(text) for level, text in messages if level == message_levels.SUCCESS]
        return Outcome(ok=True, message=done[-1] if done else "", activation=activation)
    fields = _form_errors(response)
    if errors:
        fields.setdefault("non_field_errors", []).extend(errors)
    first = next(iter(fields.values()))[0] if fields else _("The input is not valid.")
    status = response.status_code if response.status_code >= 400 else 400
    return Outcome(ok=False, status=status, message=first, fields=fields, activation=activation)


def task_queryset():
    """The certification flow's human tasks (not the start, gateways, functions or timers)."""
    return CertificationFlow.task_class._default_manager.filter(
        process__flow_class=CertificationFlow, flow_task_type="HUMAN"
    )


def tasks_of(user):
    """The user's open human tasks: assigned to them (inbox) or theirs to take (queue), within their scope."""
    visible = Application.objects.visible_to(user).values("pk")
    return task_queryset().filter(pk__in=open_tasks_of(user).values("pk"), process__artifact_object_id__in=visible)


def claim(request, task):
    """Take a queued task, as the page's "take" button does."""
    url = task.flow_task.reverse("assign", args=[task.process_id, task.pk])
    return post_to_page(request, url, {})


def complete(request, task, data):
    """Submit the task's page with `data` (its form fields), as the person would."""
    url = task.flow_task.reverse("execute", args=[task.process_id, task.pk])
    return post_to_page(request, url, data)


def open_application(request, data):
    """Submit the start page (cluster, target tier); on success the Outcome's activation holds the application."""
    return post_to_page(request, CertificationFlow.start.reverse("execute"), data)


def opened_application(outcome):
    return outcome.activation.process.artifact if outcome.ok and outcome.activation else None


def raise_objection(request, application, data):
    return post_to_page(request, reverse("workflow:objection_raise", args=[application.pk]), data)


def resolve_objection(request, application, data):
    return post_to_page(request, reverse("workflow:objection_resolve", args=[application.pk]), data)


def is_open(task):
    return task.status in (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
