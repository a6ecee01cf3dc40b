"""Academic results, enrolment and satisfaction: the conditions of seed 002 §12."""

from collections import defaultdict
from fractions import Fraction

from django.utils.translation import gettext as _

from certification.metrics import METRICS, format_percent, format_value
from certification.models import SatisfactionSurvey

from .base import (
    JUNIOR,
    STAGE_LABELS,
    Measure,
    SquareRoot,
    Unmeasured,
    _approx_sqrt,
    _missing_schools,
    _percent,
    _ratio_detail,
    computes,
    latest_year,
)


def _results_base(data):
    return latest_year(data, "academic_results")


def _by_stage(rows):
    stages = defaultdict(list)
    for row in rows:
        stages[row["stage"]].append(row)
    return dict(sorted(stages.items(), key=lambda item: list(STAGE_LABELS).index(item[0])))


def _weighted(rows, share_field, weight_field="students"):
    total = sum(row[weight_field] for row in rows)
    return sum(row[weight_field] * _percent(row[share_field]) for row in rows) / total


def _pass_share(rows):
    """Σ at pass level or above ÷ Σ tested: exact, from the counts the template asks for."""
    return Fraction(sum(row["passed"] for row in rows), sum(row["students"] for row in rows))


@computes
def pass_share_margin(data):
    year, rows = _results_base(data)
    breakdown, margins = [], []
    for stage, stage_rows in _by_stage(rows).items():
        cluster, district = _pass_share(stage_rows), _weighted(stage_rows, "district_pass_share")
        margins.append(cluster - district)
        breakdown.append(
            {
                "label": STAGE_LABELS[stage],
                "value": _("%(cluster)s against a district average of %(district)s")
                % {"cluster": format_percent(cluster), "district": format_percent(district)},
            }
        )
    return Measure(value=min(margins), rows=rows, detail={"year": year, "breakdown": breakdown})


@computes
def inter_school_difference_rate_max(data):
    year, rows = _results_base(data)
    breakdown, squares = [], []
    for stage, stage_rows in _by_stage(rows).items():
        scores = [Fraction(row["mean_score"]) for row in stage_rows]
        mean = sum(scores) / len(scores)
        if len(scores) < 2 or mean == 0:
            breakdown.append({"label": STAGE_LABELS[stage], "value": _("not computed: fewer than two schools")})
            continue
        variance = sum((score - mean) ** 2 for score in scores) / len(scores)
        square = variance / (mean * mean)
        squares.append(square)
        breakdown.append(
            {
                "label": STAGE_LABELS[stage],
                "value": _("%(cv)s (%(schools)s schools, mean %(mean)s)")
                % {
                    "cv": format_value(METRICS["inter_school_difference_rate_max"], _approx_sqrt(square)),
                    "schools": len(scores),
                    "mean": format_value(None, mean),
                },
            }
        )
    if not squares:
        return Measure(rows=rows, missing=_("Every stage needs the results of at least two schools."))
    largest = max(squares)
    return Measure(
        value=_approx_sqrt(largest),
        exact=SquareRoot(largest),
        rows=rows,
        detail={"year": year, "breakdown": breakdown},
    )


@computes
def junior_pass_rate(data):
    if not data.teaching(JUNIOR):
        return Measure(nothing_to_measure=_("The cluster has no junior school."))
    year, rows = _results_base(data)
    junior = [row for row in rows if row["stage"] == JUNIOR]
    if not junior:
        return Measure(missing=_("No junior-stage results for %(year)s.") % {"year": year})
    tested = sum(row["students"] for row in junior)
    enrolled = sum(row["enrolled"] for row in junior)
    if tested < enrolled:
        # "在确保'应考尽考'的前提下" (seed 002 §12): the pass rate only counts when everyone who should sit the test did.
        return Measure(
            rows=junior,
            missing=_(
                "Not everyone who should be tested was tested (应考尽考): %(tested)s of %(enrolled)s junior "
                "students in %(year)s, so the pass rate gives no verdict."
            )
            % {"tested": tested, "enrolled": enrolled, "year": year},
        )
    passed = sum(row["passed"] for row in junior)
    return Measure(value=Fraction(passed, tested), rows=junior, detail=_ratio_detail(year, passed, tested))


@computes
def weak_school_improvement_min(data):
    weak = data.weak_ids
    if not weak:
        return Measure(nothing_to_measure=_("The cluster has no relatively weak school."))
    year, rows = _results_base(data)
    last = {(row["school_pk"], row["stage"]): row for row in data.rows("academic_results") if row["year"] == year - 1}
    gains, breakdown, behind = [], [], []
    for row in rows:
        before = last.get((row["school_pk"], row["stage"]))
        if row["school_pk"] not in weak or before is None:
            continue
        gain = _pass_share([row]) - _pass_share([before])
        gains.append(gain)
        behind += [row, before]
        breakdown.append(
            {
                "label": f"{row['school']} {STAGE_LABELS[row['stage']]}",
                "value": format_value(METRICS["weak_school_improvement_min"], gain),
            }
        )
    if not gains:
        return Measure(
            missing=_("The comparison needs the weak schools' results of %(year)s in the same workbook.")
            % {"year": year - 1}
        )
    return Measure(value=min(gains), rows=behind, detail={"year": year, "breakdown": breakdown})


# Enrolment and satisfaction -----------------------------------------------------------------------------------


def _enrolment_base(data):
    if not data.teaching(JUNIOR):
        raise Unmeasured(Measure(nothing_to_measure=_("The cluster has no junior school.")))
    year, chosen = latest_year(data, "enrolment")
    rows = data.rows("enrolment")
    absent = _missing_schools(data, rows, "enrolment", year, data.teaching(JUNIOR))
    if absent:
        raise Unmeasured(Measure(rows=chosen, missing=absent))
    return year, chosen


@computes
def quota_plan_completion(data):
    year, rows = _enrolment_base(data)
    plan, filled = sum(row["quota_plan"] for row in rows), sum(row["quota_filled"] for row in rows)
    if plan == 0:
        return Measure(rows=rows, missing=_("The quota plan adds up to 0 in %(year)s.") % {"year": year})
    return Measure(value=Fraction(filled, plan), rows=rows, detail=_ratio_detail(year, filled, plan))


@computes
def quality_senior_entry_margin(data):
    year, rows = _enrolment_base(data)
    cluster = _weighted(rows, "quality_entry_rate", "graduates")
    district = _weighted(rows, "district_quality_entry_rate", "graduates")
    return Measure(
        value=cluster - district,
        rows=rows,
        detail={
            "year": year,
            "breakdown": [
                {"label": _("Cluster"), "value": format_percent(cluster)},
                {"label": _("District average"), "value": format_percent(district)},
            ],
        },
    )


@computes
def satisfaction_min(data):
    year, rows = latest_year(data, "satisfaction")
    groups = {row["group"]: row for row in rows}
    needed = {
        group: str(group.label) for group in (SatisfactionSurvey.Group.PARENTS, SatisfactionSurvey.Group.TEACHERS)
    }
    absent = [label for group, label in needed.items() if group not in groups]
    if absent:
        return Measure(
            rows=list(groups.values()),
            missing=_("No satisfaction survey of %(groups)s for %(year)s.")
            % {"groups": "、".join(absent), "year": year},
        )
    rates = {group: Fraction(groups[group]["satisfied"], groups[group]["respondents"]) for group in needed}
    return Measure(
        value=min(rates.values()),
        rows=[groups[group] for group in needed],
        detail={
            "year": year,
            "breakdown": [{"label": needed[group], "value": format_percent(rate)} for group, rate in rates.items()],
        },
    )


@computes
def satisfaction_pooled(data):
    """Σ satisfied ÷ Σ respondents over every respondent of the year: a survey of everyone when there is one,
    else every group's survey added up (a standard that pools the groups says so by naming this metric)."""
    year, chosen = latest_year(data, "satisfaction")
    everyone = [row for row in chosen if row["group"] == SatisfactionSurvey.Group.EVERYONE]
    chosen = everyone or chosen
    satisfied, respondents = sum(row["satisfied"] for row in chosen), sum(row["respondents"] for row in chosen)
    return Measure(
        value=Fraction(satisfied, respondents),
        rows=chosen,
        detail=_ratio_detail(year, satisfied, respondents, counted=_("satisfied respondents")),
    )
