"""Viewflow's task-data panel as we render it: one card per linked object, its fields in Chinese words (是/否/—),
the process and task links left out."""

import re
from types import SimpleNamespace

from django.template.loader import render_to_string
from django.utils import translation


def field(name):
    return SimpleNamespace(name=name)


def rows_of(html):
    return re.findall(r"<th[^>]*>([^<]*)</th>\s*<td>([^<]*)</td>", html)


def test_task_data_shows_artifact_and_seed_cards_with_words_for_values():
    task = SimpleNamespace(artifact="天平-湖南学区", seed="2025")
    artifact = [(field("ok"), "是否通过", True), (field("process"), "流程", 7), (field("note"), "备注", None)]
    seed = [(field("open"), "是否开放", False), (field("task"), "任务", 8), (field("year"), "学年", "2025")]

    with translation.override("zh-hans"):
        html = render_to_string(
            "viewflow/workflow/task_data.html", {"task": task, "artifact_data": artifact, "seed_data": seed}
        )

    titles = re.findall(r'<h1 class="vf-card__title">([^<]*)</h1>', html)
    assert titles == ["天平-湖南学区", "2025"]
    assert rows_of(html) == [("是否通过", "是"), ("备注", "—"), ("是否开放", "否"), ("学年", "2025")]
