"""Computed indicators on the score sheet: pre-filled from the data, overrides need a reason, data changes refresh.

Cluster: 甲校 (lead), 乙校, 丙校 with 40 + 30 + 30 = 100 eligible teachers in 2025; 10 same-stage rotations
甲校 → 乙校, none of them backbone teachers; no kindergarten.
    C1 same-stage rotation 10 ÷ 100 = 10%, band 10–20%: met      → pre-filled 10 (full marks)
    C2 kindergarten rotation, N/A allowed, no kindergarten       → pre-filled N/A
    C3 backbone share 0 ÷ 10 = 0% < 20%: not met                 → pre-filled 0
"""

import datetime
from decimal import Decimal

import pytest

from certification.domain.computed import data_version
from certification.domain.scoring import ScoreErrors, get_or_create_sheet, save_scores, submit_sheet
from certification.errors import IllegalTransition
from certification.models import Application, ClusterMembership, ScoreSheet
from tests.factories.datasets import computed_standard, data_application, data_cluster, load_rows, school
from tests.factories.scoring import panel

pytestmark = pytest.mark.django_db


def _rotations(cluster, n, source, target, *, backbone=0):
    return [
        {
            "teacher": f"{source}-{target}-{index}",
            "from_school": school(cluster, source),
            "to_school": school(cluster, target),
            "from_stage": "primary",
            "to_stage": "primary",
            "backbone": index < backbone,
            "start_date": datetime.date(2025, 9, 1),
            "term_years": Decimal("3"),
            "year": 2025,
        }
        for index in range(n)
    ]


@pytest.fixture
def application():
    cluster = data_cluster(
        ("甲校", ["primary"], ClusterMembership.Role.LEAD),
        ("乙校", ["primary"], ClusterMembership.Role.MEMBER),
        ("丙校", ["primary"], ClusterMembership.Role.MEMBER),
    )
    standard = computed_standard(
        ("rotation_same_stage_rate", "between", "0.10", "0.20"),
        ("kindergarten_rotation_rate", "gte", "0.05", True),
        ("backbone_share_same_stage", "gte", "0.20"),
    )
    application = data_application(cluster, standard, status=Application.Status.SCORING)
    teachers = {"甲校": 40, "乙校": 30, "丙校": 30}
    load_rows(
        application,
        "eligible_teachers",
        [{"school": school(cluster, name), "year": 2025, "teachers": n} for name, n in teachers.items()],
    )
    load_rows(application, "rotation", _rotations(cluster, 10, "甲校", "乙校"))
    return application


@pytest.fixture
def sheet(application):
    (assignment,) = panel(application, 1)
    return get_or_create_sheet(assignment)


def _scores(sheet):
    return {s.indicator.code: s for s in sheet.scores.select_related("indicator")}


def test_sheet_prefilled_from_computed_values(sheet, application):
    scores = _scores(sheet)

    assert (scores["C1"].value, scores["C1"].not_applicable, scores["C1"].computed_value) == (
        Decimal("10.00"),
        False,
        "10%",
    )
    assert (scores["C2"].value, scores["C2"].not_applicable) == (None, True)
    assert (scores["C3"].value, scores["C3"].not_applicable, scores["C3"].computed_value) == (
        Decimal("0.00"),
        False,
        "0%",
    )
    assert sheet.data_version == data_version(application)


def test_prefilled_sheet_submits_without_comments(sheet):
    submit_sheet(sheet, by=sheet.assignment.evaluator)

    sheet.refresh_from_db()
    assert sheet.status == ScoreSheet.Status.SUBMITTED


@pytest.mark.parametrize(
    ("code", "entry", "kept"),
    [
        ("C3", {"value": "8", "comment": "名单外另有骨干教师参与交流。"}, Decimal("0.00")),  # raised above the data
        ("C1", {"value": "6", "comment": "部分达标。"}, Decimal("10.00")),  # lowered below the data
    ],
)
def test_override_without_reason_refused(sheet, code, entry, kept):
    indicator_id = _scores(sheet)[code].indicator_id

    with pytest.raises(ScoreErrors) as refused:
        save_scores(sheet, {indicator_id: entry}, by=sheet.assignment.evaluator)

    assert "改判理由" in refused.value.message
    assert _scores(sheet)[code].value == kept


def test_override_with_reason_saved(sheet):
    indicator_id = _scores(sheet)["C3"].indicator_id
    entry = {"value": "8", "comment": "名单外另有骨干教师。", "override_reason": "补充名单显示骨干教师占比 25%。"}

    save_scores(sheet, {indicator_id: entry}, by=sheet.assignment.evaluator)

    score = _scores(sheet)["C3"]
    assert (score.value, score.override_reason, score.is_override, score.prefill_value) == (
        Decimal("8.00"),
        "补充名单显示骨干教师占比 25%。",
        True,
        Decimal("0.00"),
    )


def test_scoring_a_prefilled_na_is_an_override(sheet):
    indicator_id = _scores(sheet)["C2"].indicator_id

    with pytest.raises(ScoreErrors) as refused:
        save_scores(sheet, {indicator_id: {"value": "10"}}, by=sheet.assignment.evaluator)

    assert "改判理由" in refused.value.message
    assert _scores(sheet)["C2"].not_applicable is True


def test_submit_after_data_changed_refreshes_prefills_and_asks_for_review(sheet, application):
    evaluator = sheet.assignment.evaluator
    c1 = _scores(sheet)["C1"].indicator_id
    save_scores(
        sheet,
        {c1: {"value": "9", "comment": "轮岗时长不足。", "override_reason": "两人未满一年即返回。"}},
        by=evaluator,
    )
    # Ten more rotations 甲校 → 丙校, all backbone: backbone share 10 ÷ 20 = 50%, C3 is now met.
    # A new version of the roster: the ten rotations 甲校 → 乙校 and ten more 甲校 → 丙校.
    load_rows(
        application,
        "rotation",
        _rotations(application.cluster, 10, "甲校", "乙校")
        + _rotations(application.cluster, 10, "甲校", "丙校", backbone=10),
    )

    with pytest.raises(IllegalTransition) as refused:
        submit_sheet(sheet, by=evaluator)

    assert "重新计算" in refused.value.message
    sheet.refresh_from_db()
    assert sheet.status == ScoreSheet.Status.DRAFT
    assert sheet.data_version == data_version(application)
    scores = _scores(sheet)
    assert (scores["C3"].value, scores["C3"].computed_value) == (Decimal("10.00"), "50%")
    assert (scores["C1"].value, scores["C1"].override_reason, scores["C1"].computed_value) == (
        Decimal("9.00"),
        "两人未满一年即返回。",
        "20%",
    )

    submit_sheet(sheet, by=evaluator)

    sheet.refresh_from_db()
    assert sheet.status == ScoreSheet.Status.SUBMITTED
