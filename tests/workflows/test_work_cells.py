"""The work lists' row cells built in Python (`workflows.templatetags.work_cells`): the markup the lists showed
through their included templates, each value escaped."""

import datetime
from types import SimpleNamespace

from django.template import engines
from django.utils import translation

from certification.domain.workdays import Countdown

DUE = datetime.date(2026, 12, 3)
LATER = datetime.date(2026, 12, 9)


def render(source, **context):
    with translation.override("zh-hans"):
        return engines["django"].from_string("{% load work_cells %}" + source).render(context)


def task(*, assigned, due=None, countdown=None, source=None):
    return SimpleNamespace(
        is_assigned=assigned,
        url="/t/1/?a=1&b=2",
        take_url="/t/1/assign/?back=/t/1/",
        flow_task=SimpleNamespace(name="district_decision"),
        title="审批<b>",
        due=due,
        countdown=countdown,
        due_source=source,
    )


def test_due_cell_shows_the_date_and_a_countdown_chip_coloured_by_how_close_it_is():
    late = SimpleNamespace(due=DUE, countdown=Countdown(DUE, 0, 2))
    close = SimpleNamespace(due=DUE, countdown=Countdown(DUE, 2, 0))
    far = SimpleNamespace(due=DUE, countdown=Countdown(DUE, 5, 0))

    assert render("{% due_cell row %}", row=late) == (
        '<span class="xq-nowrap" data-test="due">2026-12-03</span><div><span class="xq-chip xq-chip--bad" '
        'data-test="countdown">已逾期 2 天</span></div>\n'
    )
    assert 'class="xq-chip xq-chip--warn"' in render("{% due_cell row %}", row=close)
    assert 'class="xq-chip " data-test="countdown">剩余 5 个工作日<' in render("{% due_cell row %}", row=far)
    assert render("{% due_cell row %}", row=SimpleNamespace(due=None)) == "—\n"


def test_task_links_escape_the_title_and_post_the_take_with_the_csrf_token():
    page = render("{% task_links tasks %}", tasks=[task(assigned=False)], csrf_token="TOKEN")

    assert page == (
        '\n  <form method="post" action="/t/1/assign/?back=/t/1/" class="xq-inline" data-turbo="false">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="TOKEN">\n'
        '    <button type="submit" class="mdc-button mdc-button--outlined" data-test="task-take" '
        'data-task="district_decision" title="从待领取队列中领取此任务并打开"><span class="mdc-button__label">领取：审批&lt;b&gt;'
        "</span></button>\n  </form>\n\n\n"
    )


def test_a_task_due_on_the_rows_date_does_not_repeat_it_and_one_due_later_says_when_and_who_set_it():
    tasks = [
        task(assigned=True, due=DUE, countdown=Countdown(DUE, 3, 0), source="标准"),
        task(assigned=True, due=LATER, countdown=Countdown(LATER, 7, 0), source="标准"),
    ]

    page = render("{% task_links tasks row_due %}", tasks=tasks, row_due=DUE)

    assert page.count('data-test="task-link"') == 2
    assert 'href="/t/1/?a=1&amp;b=2"' in page
    assert page.count('data-test="task-due"') == 1
    assert "2026-12-09" in page and "2026-12-03" not in page
    assert '<span data-test="due-source">' in page
