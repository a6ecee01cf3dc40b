"""The side panel of a task's pages (project/templates/viewflow/workflow/process_data.html): the rows of the
process's business object, the application or the yearly review. Viewflow lists the process's own fields first,
whose state it words as a task's; the panel words that state itself (`LabelledProcess.state_label`).

And the facts at the head of a task's own pages (task_base.html): who holds it, which role does it, when it is due.
Viewflow draws these as Material Web text fields, an element the site does not load, so they showed nothing.
"""

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.utils import get_object_data

from certification.domain.workdays import countdown
from certification.models import Role
from certification.scope import role_of_permission
from workflows.deadlines import due_of_task

register = template.Library()


@register.simple_tag
def artifact_rows(process):
    """(field, label, value) for each field of the process's artifact; none without one."""
    artifact = process.artifact
    return [] if artifact is None else list(get_object_data(artifact))


@register.simple_tag
def task_facts(task, *, detail=False):
    """(label, value) rows of a task as its holder reads them: who holds it (or that nobody has taken it yet), the
    role that does it, its due date with the working days left, when it was created; with `detail`, when it was
    finished too. Never viewflow's permission codename."""
    role = role_of_permission(task.owner_permission) if task.owner_permission else None
    due = due_of_task(task)
    rows = [
        (_("Owner"), str(task.owner) if task.owner_id else _("Not taken yet")),
        (_("Role"), Role(role).label if role else None),
        (_("Due date"), _due(due) if due and not task.finished else None),
        (_("Created"), _moment(task.created)),
    ]
    if detail:
        # Viewflow never records when a task was taken (its `assigned` stays empty), so no row says it.
        rows.append((_("Finished"), _moment(task.finished)))
    return rows


def _due(due):
    return _("%(date)s (%(countdown)s)") % {"date": date_filter(due, "Y-m-d"), "countdown": countdown(due).label}


def _moment(value):
    return date_filter(timezone.localtime(value), "Y-m-d H:i") if value else None
