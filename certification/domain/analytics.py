"""How evaluators score, for the city office: per evaluator their sheets, their leniency or severity against the
panel, and how often their score made a disagreement the panel lead had to reconcile; per standard, how far the
evaluators agree (an intraclass correlation).

Intraclass correlation (Shrout & Fleiss 1979, "Intraclass correlations: uses in assessing rater reliability",
Psychological Bulletin 86(2):420-428). For n targets each rated by k raters, x_ij the rating of target i by rater j,
m_i the mean of target i, m_j the mean of rater j and m the grand mean:

    BMS = k · Σ_i (m_i − m)² / (n − 1)                              between-targets mean square
    WMS = Σ_i Σ_j (x_ij − m_i)² / (n · (k − 1))                     within-target mean square
    JMS = n · Σ_j (m_j − m)² / (k − 1)                              between-raters mean square
    EMS = Σ_i Σ_j (x_ij − m_i − m_j + m)² / ((n − 1) · (k − 1))     residual mean square

    ICC(1,1) = (BMS − WMS) / (BMS + (k − 1) · WMS)
    ICC(2,1) = (BMS − EMS) / (BMS + (k − 1) · EMS + k · (JMS − EMS) / n)

Each application has its own panel, so a standard's targets are not rated by one fixed set of raters: the one-way
model ICC(1,1) is the one that fits (ICC(2,1) needs the same raters on every target). A target is one indicator of
one application; each score is divided by the indicator's maximum so indicators of different weight are comparable;
only targets with the most common panel size k count, and only scored (not N/A) values.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from certification.models import IndicatorResult, Score, ScoreSheet, Standard, User


def _mean_squares(matrix):
    n, k = len(matrix), len(matrix[0])
    grand = sum(map(sum, matrix)) / (n * k)
    target_means = [sum(row) / k for row in matrix]
    rater_means = [sum(row[j] for row in matrix) / n for j in range(k)]
    bms = k * sum((m - grand) ** 2 for m in target_means) / (n - 1)
    wms = sum((x - target_means[i]) ** 2 for i, row in enumerate(matrix) for x in row) / (n * (k - 1))
    jms = n * sum((m - grand) ** 2 for m in rater_means) / (k - 1)
    ems = sum(
        (x - target_means[i] - rater_means[j] + grand) ** 2 for i, row in enumerate(matrix) for j, x in enumerate(row)
    ) / ((n - 1) * (k - 1))
    return n, k, bms, wms, jms, ems


def icc_1_1(matrix):
    """ICC(1,1) of an n × k matrix (rows: targets, columns: raters); None when it is undefined."""
    if len(matrix) < 2 or len(matrix[0]) < 2:
        return None
    _n, k, bms, wms, _jms, _ems = _mean_squares(matrix)
    denominator = bms + (k - 1) * wms
    return (bms - wms) / denominator if denominator else None


def icc_2_1(matrix):
    """ICC(2,1) of an n × k matrix in which the same k raters rated every target; None when undefined."""
    if len(matrix) < 2 or len(matrix[0]) < 2:
        return None
    n, k, bms, _wms, jms, ems = _mean_squares(matrix)
    denominator = bms + (k - 1) * ems + k * (jms - ems) / n
    return (bms - ems) / denominator if denominator else None


@dataclass(frozen=True)
class EvaluatorFigures:
    evaluator: str
    sheets: int
    scores: int
    mean_deviation: Decimal | None
    mean_absolute_deviation: Decimal | None
    reconciliations: int


@dataclass(frozen=True)
class StandardAgreement:
    standard: str
    targets: int
    raters: int
    icc: float | None


def _q(value):
    return Decimal(value).quantize(Decimal("0.01")) if value is not None else None


def evaluator_analytics(city):
    """(evaluators, standards) for the applications of `city`'s districts, in five queries.

    Deviation: an evaluator's score minus the panel's combined score (before reconciliation) on the same indicator,
    averaged over all their scored indicators: above 0 lenient, below 0 severe. A reconciliation is counted for an
    evaluator when the indicator had a disagreement and their score was the highest or the lowest of the panel.
    """
    scores = list(
        Score.objects.filter(
            sheet__status=ScoreSheet.Status.SUBMITTED,
            sheet__assignment__application__cluster__district__parent=city,
            not_applicable=False,
            value__isnull=False,
        ).values_list(
            "sheet_id",
            "sheet__assignment__evaluator_id",
            "sheet__assignment__application_id",
            "sheet__assignment__application__standard_id",
            "indicator_id",
            "indicator__max_score",
            "value",
        )
    )
    results = {
        (application, indicator): (value, disagreement)
        for application, indicator, value, disagreement in IndicatorResult.objects.filter(
            application__cluster__district__parent=city
        ).values_list("application_id", "indicator_id", "value", "disagreement")
    }
    panel = defaultdict(list)  # (application, indicator) → [(evaluator, value)]
    for _sheet, evaluator, application, _standard, indicator, _max, value in scores:
        panel[(application, indicator)].append((evaluator, value))

    sheets, deviations, reconciliations = defaultdict(set), defaultdict(list), Counter()
    for sheet, evaluator, application, _standard, indicator, _max, value in scores:
        sheets[evaluator].add(sheet)
        combined, disagreement = results.get((application, indicator), (None, False))
        if combined is not None:
            deviations[evaluator].append(value - combined)
        values = [v for _e, v in panel[(application, indicator)]]
        if disagreement and value in (min(values), max(values)):
            reconciliations[evaluator] += 1

    names = {user.pk: str(user) for user in User.objects.filter(pk__in=sheets)}
    evaluators = [
        EvaluatorFigures(
            evaluator=names[pk],
            sheets=len(sheets[pk]),
            scores=len(deviations[pk]),
            mean_deviation=_q(sum(deviations[pk]) / len(deviations[pk])) if deviations[pk] else None,
            mean_absolute_deviation=_q(sum(abs(d) for d in deviations[pk]) / len(deviations[pk]))
            if deviations[pk]
            else None,
            reconciliations=reconciliations[pk],
        )
        for pk in sorted(sheets, key=lambda pk: names[pk])
    ]

    by_standard = defaultdict(dict)  # standard → (application, indicator) → [normalised values]
    for _sheet, _evaluator, application, standard, indicator, maximum, value in scores:
        by_standard[standard].setdefault((application, indicator), []).append(float(value) / float(maximum or 1))
    titles = {
        s.pk: _("%(title)s (version %(version)s)") % {"title": s.title, "version": s.version}
        for s in Standard.objects.filter(pk__in=by_standard)
    }
    standards = []
    for standard, targets in sorted(by_standard.items(), key=lambda item: titles[item[0]]):
        k = Counter(len(v) for v in targets.values()).most_common(1)[0][0]
        matrix = [values for values in targets.values() if len(values) == k]
        standards.append(StandardAgreement(titles[standard], len(matrix), k, icc_1_1(matrix)))
    return evaluators, standards
