"""Aggregation of the panel's sheets, worked by hand.

Standard (total 100, pass 60, tolerance 0.2): A1 max 40, A2 max 30, A3 max 20 (N/A allowed), A4 max 10 (veto).
Five evaluators:
    A1: 30 32 34 36 38   mean 34     median 34   trimmed (32+34+36)/3 = 34     spread 8 = 0.2×40: no disagreement
    A2: 15 20 21 24 30   mean 22     median 21   trimmed (20+21+24)/3 = 21.67  spread 15 > 6: disagreement
    A3: NA NA NA 12 14   3 of 5 say N/A: left out of the sum and the maximum (applicable max 80)
    A4:  7  7  8  8  9   mean 7.8    median 8    trimmed (7+8+8)/3 = 7.67      spread 2 = 0.2×10: veto met (≥ 6)
Totals = 100 × earned ÷ 80:
    mean    (34 + 22 + 7.8)     = 63.8  → 79.75
    median  (34 + 21 + 8)       = 63    → 78.75
    trimmed (34 + 21.67 + 7.67) = 63.34 → 79.175 → 79.18 (half up)
"""

from decimal import Decimal

import pytest

from certification.domain.aggregation import aggregate, combine, failed_items, has_unreconciled, reconcile
from certification.domain.scoring import get_or_create_sheet
from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import Application, AuditEvent, EvaluatorAssignment, IndicatorResult
from tests.factories.scoring import NA, panel, scored, scoring_application, scoring_standard, submitted_sheet

SPECS = [scored("A1", 40), scored("A2", 30), scored("A3", 20, na_allowed=True), scored("A4", 10, veto=True)]
PANEL_SCORES = [
    {"A1": 30, "A2": 15, "A3": NA, "A4": 7},
    {"A1": 32, "A2": 20, "A3": NA, "A4": 7},
    {"A1": 34, "A2": 21, "A3": NA, "A4": 8},
    {"A1": 36, "A2": 24, "A3": 12, "A4": 8},
    {"A1": 38, "A2": 30, "A3": 14, "A4": 9},
]


def _scored_application(aggregation, scores=PANEL_SCORES, specs=SPECS, pass_score=None):
    application = scoring_application(scoring_standard(specs, pass_score=pass_score, aggregation=aggregation))
    assignments = panel(application, len(scores))
    for assignment, values in zip(assignments, scores, strict=True):
        submitted_sheet(assignment, values)
    return application, assignments


def _results(application):
    return {
        r.indicator.code: r for r in IndicatorResult.objects.filter(application=application).select_related("indicator")
    }


@pytest.mark.parametrize(
    ("aggregation", "combined", "total"),
    [
        ("mean", {"A1": "34.00", "A2": "22.00", "A4": "7.80"}, "79.75"),
        ("median", {"A1": "34.00", "A2": "21.00", "A4": "8.00"}, "78.75"),
        # 100 × (34 + 65/3 + 23/3) ÷ 80 = 79.1666…: the total comes from the exact scores (issue 9, rule 9), not
        # from the rounded 21.67 and 7.67, which would give 79.175 → 79.18.
        ("trimmed_mean", {"A1": "34.00", "A2": "21.67", "A4": "7.67"}, "79.17"),
    ],
)
def test_aggregate_hand_worked_totals(db, aggregation, combined, total):
    application, _assignments = _scored_application(aggregation)

    result = aggregate(application)

    results = _results(application)
    assert {code: str(r.value) for code, r in results.items() if not r.not_applicable} == combined
    assert results["A3"].not_applicable is True and results["A3"].value is None
    assert result.total == Decimal(total)
    assert result.max_total == Decimal("100")
    assert result.vetoes_met is True
    assert result.passed is None  # A2's disagreement is not reconciled yet
    assert [r.indicator.code for r in result.disagreements] == ["A2"]
    application.refresh_from_db()
    assert (application.total_score, application.vetoes_met, application.passed) == (Decimal(total), True, None)


def test_aggregate_spread_and_disagreement_flags(db):
    application, _assignments = _scored_application("mean")

    aggregate(application)

    results = _results(application)
    assert (results["A1"].spread, results["A1"].disagreement) == (Decimal("8.00"), False)
    assert (results["A2"].spread, results["A2"].disagreement) == (Decimal("15.00"), True)
    assert (results["A4"].spread, results["A4"].disagreement, results["A4"].veto_met) == (Decimal("2.00"), False, True)
    assert has_unreconciled(application) is True


def test_aggregate_is_idempotent(db):
    application, _assignments = _scored_application("mean")

    first = aggregate(application)
    second = aggregate(application)

    assert IndicatorResult.objects.filter(application=application).count() == 4
    assert (first.total, first.passed) == (second.total, second.passed) == (Decimal("79.75"), None)


def test_aggregate_split_panel_on_na_keeps_indicator(db):
    # 2 of 4 say N/A: no majority, so A3 counts with the scorers' mean (10+14)/2 = 12.
    scores = [
        {"A1": 40, "A2": 30, "A3": NA, "A4": 10},
        {"A1": 40, "A2": 30, "A3": NA, "A4": 10},
        {"A1": 40, "A2": 30, "A3": 10, "A4": 10},
        {"A1": 40, "A2": 30, "A3": 14, "A4": 10},
    ]
    application, _assignments = _scored_application("mean", scores=scores)

    result = aggregate(application)

    a3 = _results(application)["A3"]
    assert (a3.not_applicable, a3.value, a3.spread, a3.disagreement) == (
        False,
        Decimal("12.00"),
        Decimal("4.00"),
        False,
    )
    assert result.total == Decimal("92.00")  # 100 × (40 + 30 + 12 + 10) ÷ 100
    assert result.passed is True


def test_aggregate_na_rescales_instead_of_penalising(db):
    # Full marks on everything that applies: 100, not 80 (N/A out of the maximum) and not 80 of 100 (N/A as zero).
    scores = [{"A1": 40, "A2": 30, "A3": NA, "A4": 10}] * 3
    application, _assignments = _scored_application("mean", scores=scores)

    result = aggregate(application)

    assert result.total == Decimal("100.00")
    assert result.passed is True


def test_aggregate_veto_not_met_fails_despite_total(db):
    # A4 combined 5 < 6 (60% of 10): the total 100 × 75 ÷ 80 = 93.75 is far above 60, yet the application fails.
    scores = [{"A1": 40, "A2": 30, "A3": NA, "A4": 5}] * 3
    application, _assignments = _scored_application("mean", scores=scores)

    result = aggregate(application)

    assert result.total == Decimal("93.75")
    assert result.vetoes_met is False
    assert result.passed is False
    assert _results(application)["A4"].veto_met is False
    items = failed_items(application)
    assert [item.indicator.code for item in items] == ["A4"]
    assert "一票否决" in items[0].reasons[0]
    assert items[0].comments == ["材料不够完整。"] * 3


@pytest.mark.parametrize(("pass_score", "passed"), [("75.00", True), ("75.01", False)])
def test_aggregate_pass_at_and_just_above_pass_score(db, pass_score, passed):
    # 100 × (30 + 22.5 + 7.5) ÷ 80 = 75.00 exactly.
    scores = [{"A1": 30, "A2": 22.5, "A3": NA, "A4": 7.5}] * 3
    application, _assignments = _scored_application("mean", scores=scores, pass_score=pass_score)

    result = aggregate(application)

    assert result.total == Decimal("75.00")
    assert result.passed is passed


def test_aggregate_refused_while_an_active_evaluator_has_not_submitted(db):
    application = scoring_application(scoring_standard(SPECS))
    first, second = panel(application, 2)
    submitted_sheet(first, PANEL_SCORES[0])
    get_or_create_sheet(second)

    with pytest.raises(IllegalTransition) as refused:
        aggregate(application)

    assert str(second.evaluator) in refused.value.message
    assert not IndicatorResult.objects.filter(application=application).exists()


def test_aggregate_ignores_recused_evaluators(db):
    application, assignments = _scored_application("mean")
    EvaluatorAssignment.objects.filter(pk=assignments[4].pk).update(status=EvaluatorAssignment.Status.RECUSED)

    aggregate(application)

    # Without the fifth sheet: A2 = (15+20+21+24)/4 = 20; A3 = 3 of 4 N/A.
    results = _results(application)
    assert results["A2"].value == Decimal("20.00")
    assert results["A3"].not_applicable is True


def test_combine_methods():
    values = [Decimal(v) for v in ("1", "2", "3", "10")]
    assert combine(values, "mean") == Decimal("4.00")
    assert combine(values, "median") == Decimal("2.50")
    assert combine(values, "trimmed_mean") == Decimal("2.50")
    assert combine(values[:2], "trimmed_mean") == Decimal("1.50")  # fewer than three: the mean


# --- reconciliation ---------------------------------------------------------------------------------------------


@pytest.fixture
def disagreement(db):
    application, assignments = _scored_application("mean")
    aggregate(application)
    return application, assignments, _results(application)["A2"]


def test_reconcile_by_panel_lead_settles_and_passes(disagreement):
    application, assignments, result = disagreement
    lead = assignments[0].evaluator

    outcome = reconcile(result, "24", "复核佐证材料后取第四位专家意见。", by=lead)

    result.refresh_from_db()
    assert (result.reconciled_value, result.reconciled_by, result.final_value) == (
        Decimal("24.00"),
        lead,
        Decimal("24.00"),
    )
    assert outcome.total == Decimal("82.25")  # 100 × (34 + 24 + 7.8) ÷ 80
    assert outcome.passed is True
    assert has_unreconciled(application) is False
    application.refresh_from_db()
    assert (application.total_score, application.passed) == (Decimal("82.25"), True)
    event = AuditEvent.objects.get(action="indicator_result.reconciled")
    assert (event.actor, event.reason, event.to_state) == (lead, "复核佐证材料后取第四位专家意见。", "24.00")


def test_reconcile_kept_when_aggregating_again(disagreement):
    application, assignments, result = disagreement
    reconcile(result, "24", "复核后确定。", by=assignments[0].evaluator)

    again = aggregate(application)

    assert again.total == Decimal("82.25")
    assert again.passed is True


def test_reconcile_by_other_panel_member_refused(disagreement):
    application, assignments, result = disagreement

    with pytest.raises(NotAllowed) as refused:
        reconcile(result, "24", "我认为应为24分。", by=assignments[1].evaluator)

    assert "专家组组长" in refused.value.message
    result.refresh_from_db()
    assert result.reconciled_value is None
    application.refresh_from_db()
    assert application.passed is None


def test_reconcile_by_recused_lead_refused(disagreement):
    _application, assignments, result = disagreement
    EvaluatorAssignment.objects.filter(pk=assignments[0].pk).update(status=EvaluatorAssignment.Status.RECUSED)

    with pytest.raises(NotAllowed):
        reconcile(result, "24", "复核后确定。", by=assignments[0].evaluator)

    result.refresh_from_db()
    assert result.reconciled_value is None


@pytest.mark.parametrize(("value", "reason"), [("24", "  "), ("30.01", "理由"), ("-1", "理由"), ("abc", "理由")])
def test_reconcile_bad_input_refused(disagreement, value, reason):
    _application, assignments, result = disagreement

    with pytest.raises(InvalidInput):
        reconcile(result, value, reason, by=assignments[0].evaluator)

    result.refresh_from_db()
    assert result.reconciled_value is None


def test_reconcile_without_disagreement_refused(disagreement):
    application, assignments, _result = disagreement
    agreed = _results(application)["A1"]

    with pytest.raises(IllegalTransition):
        reconcile(agreed, "30", "理由", by=assignments[0].evaluator)

    agreed.refresh_from_db()
    assert agreed.reconciled_value is None


def test_reconcile_after_approval_started_refused(disagreement):
    application, assignments, result = disagreement
    Application.objects.filter(pk=application.pk).update(status=Application.Status.APPROVAL)

    with pytest.raises(IllegalTransition):
        reconcile(result, "24", "复核后确定。", by=assignments[0].evaluator)

    result.refresh_from_db()
    assert result.reconciled_value is None
