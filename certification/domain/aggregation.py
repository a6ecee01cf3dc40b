"""The panel's result: aggregating the submitted sheets, the panel lead's reconciliation, the 整改 items.

Rules (DOMAIN.md step 6; the sheets' rules are in `certification.domain.scoring`):


* Only submitted sheets of ACTIVE assignments count (a recused evaluator's sheet does not).
* The panel marks an indicator N/A by strict MAJORITY of its evaluators: more than half of them said N/A. A split
  panel (exactly half) keeps the indicator applicable; its combined score then comes from the evaluators who
  scored it. This way one evaluator cannot silently remove an indicator from the maximum, and one cannot force
  an indicator that most of the panel found has nothing to measure.
* The combined score is the standard's aggregation of the numeric scores: mean, median, or trimmed mean (drop one
  highest and one lowest when there are at least three scores, else the mean), kept exact (a Fraction); the
  stored and shown value is its rounding half-up to 0.01.
* Spread = highest − lowest numeric score. A spread greater than ``disagreement_tolerance × max_score`` is a
  disagreement, which the panel lead reconciles with a reason (`reconcile`); until then ``passed`` stays None.
* Total, on the standard's scale:  ``total = total_score × Σ final(i) ÷ Σ max(i)`` over applicable indicators,
  kept exact and compared with the pass score exactly; only the stored and shown total is rounded half-up to 0.01
  (issue 9, rule 9: a total of 79.89 fails a pass score of 80 even if the rounded indicator scores add up to 80).
  Rescaling keeps a cluster without, say, a kindergarten on the same scale as one with:
  leaving an N/A indicator out of the maximum without rescaling would lower the reachable total and fail it for
  having nothing to measure; counting it as 0 would do the same. When every indicator is N/A the total is 0.
* A veto indicator is met when its exact final score is at least 60% of its maximum (``VETO_SHARE``). For computed
  indicators whose pre-fills stand this is exactly the data's pass/fail (full marks or 0); where the panel
  overrode the data with written reasons, their combined judgement counts. An N/A veto indicator cannot fail.
* ``passed`` = total ≥ pass score AND every veto met; None while a disagreement is unreconciled.
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db import transaction
from django.utils.translation import gettext as _

from certification.errors import IllegalTransition, InvalidInput, NotAllowed
from certification.models import (
    Application,
    EvaluatorAssignment,
    Indicator,
    IndicatorResult,
    Score,
    ScoreSheet,
)

from . import audit
from .scoring import (
    _parse_value,
    _quantize,
)

VETO_SHARE = Decimal("0.6")
# Below this share of its maximum an indicator goes on the 整改 list of a failed application.
FAIL_SHARE = VETO_SHARE
RECONCILING_STATUSES = {Application.Status.SCORING, Application.Status.RECONCILIATION}


@dataclass
class AggregateResult:
    total: Decimal
    max_total: Decimal
    vetoes_met: bool
    passed: bool | None
    disagreements: list = field(default_factory=list)


@dataclass
class FailedItem:
    """One line of the 整改 list."""

    indicator: Indicator
    value: Decimal | None
    max_score: Decimal
    reasons: list
    comments: list


def combine_exact(values, method):
    """Combine evaluators' scores with the standard's aggregation method, exactly: a Fraction, never rounded."""
    values = sorted(Fraction(value) for value in values)
    if method == "median":
        return Fraction(statistics.median(values))
    if method == "trimmed_mean" and len(values) >= 3:
        values = values[1:-1]
    return sum(values, start=Fraction(0)) / len(values)


def for_display(exact):
    """A non-negative exact score rounded half-up to 0.01, as stored and read: one rounding, from the exact value."""
    return Decimal(math.floor(Fraction(exact) * 100 + Fraction(1, 2))) / 100


def combine(values, method):
    """Combine evaluators' scores with the standard's aggregation method, rounded half-up to 0.01 for reading."""
    return _quantize(for_display(combine_exact(values, method)))


def _veto_met(indicator, result, exact):
    """Whether a veto indicator is met, from its exact final score `exact`; None for an indicator that is no veto."""
    if not indicator.veto:
        return None
    if result.not_applicable:
        return True
    return exact >= Fraction(indicator.max_score) * Fraction(VETO_SHARE)


def _exact_final(application, results):
    """{indicator id: exact final score} of the applicable results: a reconciled score as the panel lead entered it,
    otherwise the exact combination of the active panel's numeric scores (the stored value is only its rounding)."""
    scores = defaultdict(list)
    numeric = Score.objects.filter(
        sheet__assignment__application=application,
        sheet__assignment__status=EvaluatorAssignment.Status.ACTIVE,
        not_applicable=False,
        value__isnull=False,
    )
    for indicator_id, value in numeric.values_list("indicator_id", "value"):
        scores[indicator_id].append(value)
    return {
        r.indicator_id: (
            Fraction(r.reconciled_value)
            if r.reconciled_value is not None
            else combine_exact(scores[r.indicator_id], application.standard.aggregation)
        )
        for r in results
        if not r.not_applicable
    }


def _totals(application, results, exact):
    """(total, exact total, max_total, vetoes_met, passed) from IndicatorResult rows and their exact final scores.

    The verdict compares the exact total with the pass score; the total returned for storing is its rounding.
    """
    standard = application.standard
    applicable = [r for r in results if not r.not_applicable]
    earned = sum((exact[r.indicator_id] for r in applicable), start=Fraction(0))
    applicable_max = sum((Fraction(r.indicator.max_score) for r in applicable), start=Fraction(0))
    exact_total = Fraction(standard.total_score) * earned / applicable_max if applicable_max else Fraction(0)
    vetoes_met = all(r.veto_met is not False for r in results)
    # A disagreement still open means the total may move: no verdict until the panel lead reconciles it.
    unreconciled = any(r.is_unreconciled for r in results)
    passed = None if unreconciled else exact_total >= Fraction(standard.pass_score) and vetoes_met
    return _quantize(for_display(exact_total)), exact_total, standard.total_score, vetoes_met, passed


def _save_totals(application, results, *, actor, action):
    exact = _exact_final(application, results)
    for result in results:
        veto_met = _veto_met(result.indicator, result, exact.get(result.indicator_id))
        if veto_met != result.veto_met:
            result.veto_met = veto_met
            result.save(update_fields=["veto_met"])
    total, exact_total, max_total, vetoes_met, passed = _totals(application, results, exact)
    application.total_score, application.vetoes_met, application.passed = total, vetoes_met, passed
    application.save(update_fields=["total_score", "vetoes_met", "passed"])
    audit.record(
        action,
        actor=actor,
        application=application,
        obj=application,
        payload={"total": total, "exact_total": str(exact_total), "vetoes_met": vetoes_met, "passed": passed},
    )
    return AggregateResult(
        total=total,
        max_total=max_total,
        vetoes_met=vetoes_met,
        passed=passed,
        disagreements=[r for r in results if r.is_unreconciled],
    )


def aggregate(application):
    """Combine the active panel's submitted sheets into one IndicatorResult per indicator and the totals.

    Refused while an active evaluator has not submitted. Idempotent: results are updated in place and a panel
    lead's reconciliation is kept. Sets application.total_score, vetoes_met and passed (None while a disagreement
    is unreconciled). Side effects: IndicatorResult rows, the application's totals, an audit row.
    """
    with transaction.atomic():
        application = Application.objects.select_for_update().select_related("standard").get(pk=application.pk)
        standard = application.standard
        assignments = list(
            EvaluatorAssignment.objects.filter(
                application=application, status=EvaluatorAssignment.Status.ACTIVE
            ).select_related("evaluator", "sheet")
        )
        if not assignments:
            raise IllegalTransition(_("The application has no active evaluators to aggregate."))
        waiting = [
            str(a.evaluator)
            for a in assignments
            if getattr(a, "sheet", None) is None or a.sheet.status != ScoreSheet.Status.SUBMITTED
        ]
        if waiting:
            raise IllegalTransition(
                _("Scores cannot be combined yet: %(names)s have not submitted their sheets.")
                % {"names": "、".join(waiting)}
            )
        by_indicator = {}
        for score in Score.objects.filter(sheet__assignment__in=assignments):
            by_indicator.setdefault(score.indicator_id, []).append(score)
        existing = {r.indicator_id: r for r in IndicatorResult.objects.filter(application=application)}
        results = []
        for indicator in standard.indicators():
            scores = by_indicator.get(indicator.pk, [])
            numbers = [s.value for s in scores if not s.not_applicable and s.value is not None]
            na_votes = sum(1 for s in scores if s.not_applicable)
            result = existing.get(indicator.pk) or IndicatorResult(application=application, indicator=indicator)
            result.indicator = indicator
            result.not_applicable = na_votes * 2 > len(scores) or not numbers
            if result.not_applicable:
                result.value, result.spread, result.disagreement = None, Decimal("0"), False
            else:
                result.value = combine(numbers, standard.aggregation)
                result.spread = max(numbers) - min(numbers)
                result.disagreement = result.spread > standard.disagreement_tolerance * indicator.max_score
            if not result.disagreement:
                result.reconciled_value, result.reconciled_reason, result.reconciled_by = None, "", None
            result.save()
            results.append(result)
        IndicatorResult.objects.filter(application=application).exclude(pk__in=[r.pk for r in results]).delete()
        return _save_totals(application, results, actor=None, action="application.aggregated")


def _results_of(application):
    return list(IndicatorResult.objects.filter(application=application).select_related("indicator__dimension"))


def reconcile(result, value, reason, *, by):
    """The panel lead settles a disagreement on one indicator with `value` and a written `reason`.

    Only an active panel lead of the application may, while it is being scored or reconciled; the value lies in
    [0, max]. The totals are recomputed (passed stays None while another disagreement is open).
    Side effects: the result's reconciliation, the application's totals, audit rows.
    """
    with transaction.atomic():
        result = (
            IndicatorResult.objects.select_for_update().select_related("indicator", "application").get(pk=result.pk)
        )
        application = Application.objects.select_for_update().select_related("standard").get(pk=result.application_id)
        is_lead = EvaluatorAssignment.objects.filter(
            application=application,
            evaluator=by,
            is_panel_lead=True,
            status=EvaluatorAssignment.Status.ACTIVE,
        ).exists()
        if not is_lead:
            raise NotAllowed(_("Only the panel lead of this application may reconcile a disagreement."))
        if application.status not in RECONCILING_STATUSES:
            raise IllegalTransition(
                _("The application is %(status)s; disagreements can no longer be reconciled.")
                % {"status": application.get_status_display()}
            )
        if not result.disagreement:
            raise IllegalTransition(
                _("The evaluators agree on %(code)s; there is nothing to reconcile.") % {"code": result.indicator.code}
            )
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput(_("Give the reason for the reconciled score."))
        try:
            value = _parse_value(value)
        except ValueError:
            value = None
        if value is None or value < 0 or value > result.indicator.max_score:
            raise InvalidInput(
                _("Enter a reconciled score from 0 to %(max)s with at most two decimals.")
                % {"max": result.indicator.max_score}
            )
        previous = result.reconciled_value
        result.reconciled_value, result.reconciled_reason, result.reconciled_by = value, reason, by
        result.save(update_fields=["reconciled_value", "reconciled_reason", "reconciled_by"])
        audit.record(
            "indicator_result.reconciled",
            actor=by,
            application=application,
            obj=result,
            from_state=previous if previous is not None else result.value,
            to_state=value,
            reason=reason,
            payload={"indicator": result.indicator.code},
        )
        return _save_totals(application, _results_of(application), actor=by, action="application.reconciled")


def has_unreconciled(application):
    """Whether any indicator of the application still has a disagreement without a reconciled score."""
    return IndicatorResult.objects.filter(
        application=application, disagreement=True, reconciled_value__isnull=True
    ).exists()


def failed_items(application):
    """The 整改 list: indicators whose veto was not met or whose final score is below 60% of the maximum.

    Each item carries the reasons and the evaluators' comments on it (from the active panel's submitted sheets).
    """
    results = [r for r in _results_of(application) if not r.not_applicable]
    comments = {}
    scores = Score.objects.filter(
        sheet__assignment__application=application,
        sheet__assignment__status=EvaluatorAssignment.Status.ACTIVE,
        sheet__status=ScoreSheet.Status.SUBMITTED,
    ).exclude(comment="")
    for indicator_id, comment in scores.values_list("indicator_id", "comment"):
        comments.setdefault(indicator_id, []).append(comment)
    items = []
    for result in results:
        reasons = []
        maximum = result.indicator.max_score
        if result.veto_met is False:
            reasons.append(_("Veto indicator not met: failing it fails the application whatever the total."))
        if result.final_value < maximum * FAIL_SHARE:
            reasons.append(
                _("Scored %(value)s of %(max)s, below 60%% of the maximum.")
                % {"value": result.final_value, "max": maximum}
            )
        if result.reconciled_reason:
            reasons.append(_("Panel lead: %(reason)s") % {"reason": result.reconciled_reason})
        if result.veto_met is False or result.final_value < maximum * FAIL_SHARE:
            items.append(
                FailedItem(
                    indicator=result.indicator,
                    value=result.final_value,
                    max_score=maximum,
                    reasons=reasons,
                    comments=comments.get(result.indicator_id, []),
                )
            )
    return items
