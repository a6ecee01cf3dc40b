"""The cells every work list repeats on each row, built in Python: a row's due date with its countdown
(`due_cell`) and a row's task buttons (`task_links`).

They were included templates (due.html, task_links.html): an include per row and cell costs a template render of
its own (and, under the test client that the bench drives, a copy of the whole context for each). The markup is the
same, character for character; every value is escaped as the template escaped it.
"""

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaulttags import CsrfTokenNode
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()


def _get(row, name):
    """`row.name` as a template reads it: a key of a dict, else an attribute; None when missing."""
    return row.get(name) if isinstance(row, dict) else getattr(row, name, None)


def _countdown_class(countdown):
    if countdown is None:
        return ""
    if countdown.is_overdue:
        return "xq-chip--bad"
    return "xq-chip--warn" if countdown.remaining is not None and countdown.remaining <= 2 else ""


@register.simple_tag
def due_cell(row):
    """The row's due date and, under it, its countdown chip (red when late, amber within two working days); "—"
    without a due date."""
    due = _get(row, "due")
    if not due:
        return mark_safe("—\n")
    countdown = _get(row, "countdown")
    return format_html(
        '<span class="xq-nowrap" data-test="due">{}</span><div><span class="xq-chip {}" data-test="countdown">{}'
        "</span></div>\n",
        date_filter(due, "Y-m-d"),
        _countdown_class(countdown),
        countdown.label if countdown is not None else "",
    )


@register.simple_tag(takes_context=True)
def task_links(context, tasks, row_due=None):
    """Each open task of the row: its form's button when the user holds it, else a "Take" button (a POST to take
    it from the queue); then its due date when it differs from the row's own (`row_due`), and who set its period."""
    token = CsrfTokenNode().render(context)  # what {% csrf_token %} writes
    take_hint = conditional_escape(gettext("Take this task from the queue and open it"))
    parts = []
    for task in tasks:
        if task.is_assigned:
            parts.append(
                format_html(
                    '\n  <a class="mdc-button mdc-button--raised" href="{}" data-test="task-link" data-task="{}">'
                    '<span class="mdc-button__label">{}</span></a>\n\n',
                    task.url,
                    task.flow_task.name,
                    task.title,
                )
            )
        else:
            take = gettext("Take: %(title)s") % {"title": conditional_escape(task.title)}
            parts.append(
                format_html(
                    '\n  <form method="post" action="{}" class="xq-inline" data-turbo="false">{}\n'
                    '    <button type="submit" class="mdc-button mdc-button--outlined" data-test="task-take" '
                    'data-task="{}" title="{}"><span class="mdc-button__label">{}</span></button>\n  </form>\n\n',
                    task.take_url,
                    token,
                    task.flow_task.name,
                    take_hint,
                    mark_safe(take),  # the title escaped above, the catalogue's text as the template gave it
                )
            )
        due = getattr(task, "due", None)
        if due and due != row_due:
            countdown = getattr(task, "countdown", None)
            note = gettext("Due %(due)s (%(countdown)s)") % {
                "due": conditional_escape(date_filter(due, "Y-m-d")),
                "countdown": conditional_escape(countdown.label if countdown is not None else ""),
            }
            source = getattr(task, "due_source", None)
            if source:
                note += format_html(
                    ' <span data-test="due-source">{}</span>',
                    mark_safe(gettext("period set by %(source)s") % {"source": conditional_escape(source)}),
                )
            parts.append(format_html('<span class="xq-note" data-test="task-due">{}</span>', mark_safe(note)))
    parts.append("\n")
    return mark_safe("".join(parts))
