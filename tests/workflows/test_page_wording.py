"""Chinese pages say things in Chinese: the flow chart, viewflow's process panel and lists, the signed-in person."""

import re

import pytest
from django.urls import reverse

from certification.domain.roles import ensure_groups
from certification.models import Tier
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for, open_task, start, take
from workflows.flows import CertificationFlow as F

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened():
    ensure_groups()
    world = build_world(Tier.CLOSE_KNIT)
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    return world, application, process


def test_flow_chart_branches_and_labels_are_chinese_and_drawn_at_a_readable_size(opened):
    world, application, _process = opened

    page = client_for(world.lead).get(reverse("work:application_detail", args=[application.pk])).content.decode()

    chart = page[page.index("<svg") : page.index("</svg>")]
    branches = re.findall(r'<text class="edge-label"[^>]*>([^<]*)</text>', chart)
    assert sorted(set(branches)) == ["否", "是"]
    assert ">yes<" not in chart and ">no<" not in chart
    assert 'font-size="15px"' in chart and 'font-size="12px"' not in chart
    assert re.search(r'<svg [^>]*width="\d+" height="\d+" role="img" aria-label="流程图"', chart)


def test_task_page_process_panel_has_no_english_or_python_values(opened):
    world, _application, process = opened
    task = open_task(process, F.submit_basic)
    take(world.lead, task)

    page = client_for(world.lead).get(F.submit_basic.reverse("execute", args=[process.pk, task.pk])).content.decode()

    assert 'alt="流程图"' in page and "flow graph" not in page
    assert "下载流程图（BPMN）" in page
    assert not re.search(r"<td>(True|False|None)</td>", page)
    assert f'alt="{world.lead.username.title()}"' not in page and 'class="vf-page__menu-avatar"' in page


@pytest.mark.parametrize("name", ["inbox", "queue", "archive"])
def test_viewflow_task_lists_have_chinese_headers_and_pagination(opened, name):
    world, _application, _process = opened

    page = client_for(world.lead).get(reverse(f"workflow:{name}")).content.decode()

    assert ">Brief<" not in page and "Process summary" not in page
    assert not re.search(r"\d+-\d+ of \d+", page)
    assert re.search(r"第 \d+–\d+ 条，共 \d+ 条", page)


def test_dossier_history_names_states_in_chinese_and_never_shows_a_code(opened):
    from certification.domain import audit

    world, application, _process = opened
    audit.record(
        "evidence.withdrawn", actor=world.lead, application=application, from_state="current", to_state="withdrawn"
    )
    audit.record(
        "evaluator.replaced", actor=world.office, application=application, from_state="assignment:7", to_state="x:y"
    )

    page = client_for(world.lead).get(reverse("work:application_detail", args=[application.pk])).content.decode()

    history = page[page.index('data-test="history"') :]
    assert "有效 → 已撤回" in history
    assert "assignment" not in history and "withdrawn" not in history and "→ x" not in history


def test_task_detail_page_labels_are_chinese(opened):
    world, _application, process = opened
    task = open_task(process, F.submit_basic)
    take(world.lead, task)

    page = client_for(world.lead).get(F.submit_basic.reverse("detail", args=[process.pk, task.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "<th" in html and ">办理人</th>" in html and ">角色</th>" in html and ">完成时间</th>" in html
    assert "Owner" not in html and "Brief" not in html and "act_as_" not in html
    assert not re.search(r"<td>(True|False|None)</td>", html)
