"""Scoring rules on an evaluator's sheet: range, comments, N/A, overrides, drafts and submission."""

from decimal import Decimal

import pytest

from certification.domain.scoring import ScoreErrors, get_or_create_sheet, save_scores, submit_sheet
from certification.errors import IllegalTransition, NotAllowed
from certification.models import AuditEvent, Score, ScoreSheet
from tests.factories.scoring import NA, entries_for, panel, scored, scoring_application, scoring_standard


@pytest.fixture
def sheet(db):
    standard = scoring_standard([scored("A1", 10), scored("A2", 5, na_allowed=True), scored("A3", 5)])
    application = scoring_application(standard)
    (assignment,) = panel(application, 1)
    return get_or_create_sheet(assignment)


def _scores(sheet):
    return {s.indicator.code: (s.value, s.not_applicable, s.comment) for s in sheet.scores.select_related("indicator")}


def test_get_or_create_sheet_one_score_per_indicator(sheet):
    assert sorted(_scores(sheet)) == ["A1", "A2", "A3"]
    assert all(value == (None, False, "") for value in _scores(sheet).values())
    assert get_or_create_sheet(sheet.assignment) == sheet
    assert ScoreSheet.objects.count() == 1


def test_save_scores_full_marks_needs_no_comment(sheet):
    entries = entries_for(sheet, {"A1": "10.00"}, comment="")

    save_scores(sheet, entries, by=sheet.assignment.evaluator)

    assert _scores(sheet)["A1"] == (Decimal("10.00"), False, "")
    assert AuditEvent.objects.filter(action="score_sheet.saved", object_id=str(sheet.pk)).count() == 1


@pytest.mark.parametrize(("value", "expected"), [("-0.01", "超出 0 至 10.00"), ("10.01", "超出 0 至 10.00")])
def test_save_scores_out_of_range_refused(sheet, value, expected):
    entries = entries_for(sheet, {"A1": value})

    with pytest.raises(ScoreErrors) as refused:
        save_scores(sheet, entries, by=sheet.assignment.evaluator)

    assert expected in refused.value.message
    assert "A1" in refused.value.message
    assert _scores(sheet)["A1"] == (None, False, "")


@pytest.mark.parametrize("value", ["abc", "7.123", "NaN", "Infinity"])
def test_save_scores_non_numeric_or_three_decimals_refused(sheet, value):
    with pytest.raises(ScoreErrors) as refused:
        save_scores(sheet, entries_for(sheet, {"A1": value}), by=sheet.assignment.evaluator)

    assert "不是有效的分数" in refused.value.message
    assert _scores(sheet)["A1"] == (None, False, "")


def test_save_scores_below_full_marks_without_comment_refused(sheet):
    entries = entries_for(sheet, {"A1": "9.5"}, comment="  ")

    with pytest.raises(ScoreErrors) as refused:
        save_scores(sheet, entries, by=sheet.assignment.evaluator)

    assert "未得满分须填写评语" in refused.value.message
    assert _scores(sheet)["A1"] == (None, False, "")


def test_save_scores_na_where_allowed_saves_without_value(sheet):
    save_scores(sheet, entries_for(sheet, {"A2": NA}), by=sheet.assignment.evaluator)

    assert _scores(sheet)["A2"] == (None, True, "")


def test_save_scores_na_where_not_allowed_refused_and_nothing_saved(sheet):
    entries = entries_for(sheet, {"A1": "8", "A3": NA})

    with pytest.raises(ScoreErrors) as refused:
        save_scores(sheet, entries, by=sheet.assignment.evaluator)

    assert "A3" in refused.value.message
    assert "不允许标记为不适用" in refused.value.message
    assert _scores(sheet)["A1"] == (None, False, "")
    assert _scores(sheet)["A3"] == (None, False, "")


def test_save_scores_by_another_user_refused(sheet):
    other = panel(sheet.assignment.application, 1)[0].evaluator

    with pytest.raises(NotAllowed):
        save_scores(sheet, entries_for(sheet, {"A1": "10"}), by=other)

    assert _scores(sheet)["A1"] == (None, False, "")


def test_save_scores_draft_may_be_incomplete(sheet):
    save_scores(sheet, entries_for(sheet, {"A1": "6"}), by=sheet.assignment.evaluator)

    sheet.refresh_from_db()
    assert sheet.status == ScoreSheet.Status.DRAFT
    assert _scores(sheet)["A1"] == (Decimal("6.00"), False, "材料不够完整。")
    assert _scores(sheet)["A2"] == (None, False, "")


def test_submit_sheet_incomplete_refused_naming_indicators(sheet):
    save_scores(sheet, entries_for(sheet, {"A1": "6"}), by=sheet.assignment.evaluator)

    with pytest.raises(ScoreErrors) as refused:
        submit_sheet(sheet, by=sheet.assignment.evaluator)

    assert "A2" in refused.value.message and "A3" in refused.value.message
    sheet.refresh_from_db()
    assert sheet.status == ScoreSheet.Status.DRAFT


def test_submit_sheet_freezes_it_and_later_saves_refused(sheet):
    evaluator = sheet.assignment.evaluator
    save_scores(sheet, entries_for(sheet, {"A1": "6", "A2": NA, "A3": "5"}), by=evaluator)

    submit_sheet(sheet, by=evaluator)

    sheet.refresh_from_db()
    assert sheet.status == ScoreSheet.Status.SUBMITTED
    assert sheet.submitted is not None
    with pytest.raises(IllegalTransition) as refused:
        save_scores(sheet, entries_for(sheet, {"A1": "1"}), by=evaluator)
    assert "已提交" in refused.value.message
    assert _scores(sheet)["A1"] == (Decimal("6.00"), False, "材料不够完整。")
    with pytest.raises(IllegalTransition):
        submit_sheet(sheet, by=evaluator)
    assert AuditEvent.objects.filter(action="score_sheet.submitted", object_id=str(sheet.pk)).count() == 1


def test_save_scores_unknown_indicator_refused(sheet):
    with pytest.raises(Exception) as refused:
        save_scores(sheet, {999999: {"value": "1"}}, by=sheet.assignment.evaluator)

    assert "999999" in str(refused.value)
    assert Score.objects.filter(sheet=sheet, value__isnull=False).count() == 0
