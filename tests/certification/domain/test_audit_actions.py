"""Audit actions are one vocabulary: every action the code records is an AuditEvent.Action with a Chinese label."""

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

from certification.models import AuditEvent

# `audit.record("x.y", …)`, `record(\n    "x.y",` and `action="x.y"` (the steps' `_move`).
RECORDED = re.compile(r'(?:record\(\s*|action=)"([a-z_]+\.[a-z_]+)"')


def recorded_actions():
    found = set()
    for package in ("certification", "workflows"):
        for path in (Path(settings.BASE_DIR) / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found.update(RECORDED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_recorded_action_is_in_the_vocabulary():
    found = recorded_actions()

    assert {"demo.publicity_shortened", "evaluator.removed", "application.opened"} <= found
    assert found - set(AuditEvent.Action.values) == set()


def test_every_action_has_a_chinese_label():
    with translation.override("zh-hans"):
        untranslated = [action for action in AuditEvent.Action if not re.search(r"[\u4e00-\u9fff]", str(action.label))]

    assert untranslated == []


def test_the_demo_shortcut_reads_as_chinese_on_the_history():
    event = AuditEvent(action=AuditEvent.Action.DEMO_PUBLICITY_SHORTENED)

    with translation.override("zh-hans"):
        label = event.get_action_display()

    assert label == "提前结束公示期（演示）"
