"""Computed indicators: every metric of `certification.metrics`, computed from an application's imported data.

How the figures are defined (DOMAIN.md "Quantitative rules", seeds 000 and 002):

* Years are school years (学年, 2025 = Sept 2025–Aug 2026). A metric measures the LATEST school year present in
  its data; "last year" is the school year before it. Earlier years are imported into the same data version
  (one workbook may hold several years), so every figure is traceable to the rows this version shows. An
  application reads the versions it pins (`Application.data_versions`); the self-check reads the latest versions
  of the cluster's school year. Both go through `compute_for`, so the same data give the same figures.
* Rotation rates count PEOPLE: the distinct teachers (by 教师工号) whose rotation STARTS in the measured year (a
  start from August on counts in that school year) ÷ the eligible teachers of every school of the cluster in that
  year. The year is the latest in the roster and the eligible teachers together; when either lacks it, the figure
  names what is missing instead of dividing by another year. A school with more rotated than eligible teachers is
  refused at import (and never shown as a rate above 100%). Same-stage: from stage = to stage; cross-stage: they
  differ, N/A when every school of the cluster teaches one 学段; core↔member: one side is a lead/core school and the
  other a member school. Kindergarten: rotations out of the kindergarten stage ÷ eligible teachers of the schools
  that teach kindergarten; N/A when no school of the cluster does. Backbone shares are per kind of rotation, as the
  seeds keep them apart (000: same-stage and cross-stage "均不低于"; 002: the core↔member flow, whose term is the
  shortest term). Teams into weak schools: per relatively weak school that receives teachers in the year, how many
  teachers it receives; the metric is the smallest (0 when weak schools receive none); N/A without weak schools.
  The rows behind a figure show each teacher once, with their rotations.
* Shared courses: a course is (name, provider); the count is distinct courses of the year. Per school per
  semester: for every school of the cluster and both semesters of the year (a semester without rows is missing
  data, not a pass), the courses it provides or takes part in; the metric is the smallest. Growth: this year's
  count minus last year's. High-quality student share: Σ students who took a high-quality course ÷ Σ students in
  the grades it is offered in (the sheet's 开设年级学生数), over the year's high-quality course offerings.
* School statistics: Σ covered ÷ Σ students and Σ teachers in cluster work ÷ Σ teachers, over every school.
* Academic results, per stage, from counts: Σ at pass level or above ÷ Σ tested; the pass-share margin is the
  smallest (cluster − district average, the district average weighted by the students tested) over stages.
  校际差异率 = population standard deviation ÷ mean of the schools' mean scores within a stage; the metric is the
  largest over stages with two or more schools. Its square root is irrational, so the pass/fail comparison is
  exact on squares (CV < t ⇔ variance < (t·mean)²) and the value shown is rounded. Junior pass rate: Σ passed ÷ Σ
  tested of junior rows (N/A without a junior school), and no verdict unless everyone who should be tested was
  (应考尽考: Σ tested = Σ enrolled). Weak-school improvement: per weak school and stage, this year's pass share
  minus last year's; the smallest.
* Enrolment (junior schools; N/A without one): Σ filled ÷ Σ plan; entry-rate margin weighted by graduates.
* Satisfaction, as the standard chooses: per group (satisfied ÷ respondents of parents and of teachers; the
  smaller) or pooled (Σ satisfied ÷ Σ respondents, or one survey of everyone).
* Years at district-model tier: full years from the date the cluster reached it to the application's opening.

Values are computed on every read, never stored: they follow the pinned versions. `data_version` fingerprints the
inputs so that a score sheet can pin what it saw.
"""

import hashlib

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from certification.metrics import METRICS, describe_rule, format_value
from certification.models import ClusterMembership, Indicator, TierChange

# Importing the modules registers their computations.
from . import courses, outcomes, rotation, tier
from .base import (
    COMPUTATIONS,
    ApplicationData,
    ClusterData,
    ComputedResult,
    Measure,
    Rows,
    Unmeasured,
    load_records,
)
from .rotation import metric_notes

__all__ = [
    "COMPUTATIONS",
    "ApplicationData",
    "ClusterData",
    "ComputedResult",
    "Rows",
    "compute_for",
    "compute_indicators",
    "computed_indicators_of",
    "data_version",
    "load_records",
    "metric_notes",
]

if set(COMPUTATIONS) != set(METRICS):
    # One registry: a metric a standard may name always has its computation, and no computation goes unnamed.
    raise ImproperlyConfigured(f"Metrics without a computation: {sorted(set(METRICS) - set(COMPUTATIONS))}")


def _result(indicator, measure):
    metric = METRICS.get(indicator.metric)
    missing = measure.missing
    not_applicable = bool(measure.nothing_to_measure) and indicator.na_allowed
    if measure.nothing_to_measure and not indicator.na_allowed:
        missing = _("%(reason)s This indicator does not allow N/A; the evaluators decide.") % {
            "reason": measure.nothing_to_measure
        }
    value = None if measure.nothing_to_measure else measure.value
    passed = None
    if value is not None and not not_applicable:
        passed = bool(indicator.passes(measure.exact if measure.exact is not None else value))
    if not_applicable:
        display = _("N/A: %(reason)s") % {"reason": measure.nothing_to_measure}
    elif value is None:
        display = _("No data")
    else:
        display = format_value(metric, value)
    detail = dict(measure.detail)
    if measure.nothing_to_measure:
        detail["reason"] = measure.nothing_to_measure
    return ComputedResult(
        indicator=indicator,
        value=value,
        not_applicable=not_applicable,
        passed=passed,
        display=display,
        threshold_display=describe_rule(indicator),
        behind=measure.rows if isinstance(measure.rows, Rows) else Rows(measure.rows),
        detail=detail,
        missing_data=missing,
        note=measure.note,
    )


def compute_indicators(application):
    """{indicator id: ComputedResult} for every computed indicator of the application's pinned standard, from the
    data versions it pins."""
    indicators = application.standard.indicators().filter(method=Indicator.Method.COMPUTED)
    return compute_for(indicators, ApplicationData(application))


def computed_indicators_of(standard):
    """The computed indicators of a standard version, in order (a list, so that many clusters can share it)."""
    return list(standard.indicators().filter(method=Indicator.Method.COMPUTED))


def compute_for(indicators, data):
    """{indicator id: ComputedResult} for `indicators` over `data` (ApplicationData or ClusterData)."""
    results = {}
    for indicator in indicators:
        computation = COMPUTATIONS.get(indicator.metric)
        if computation is None:
            measure = Measure(missing=_("Unknown metric “%(metric)s”.") % {"metric": indicator.metric})
        else:
            try:
                measure = computation(data)
            except Unmeasured as stopped:
                measure = stopped.measure
        results[indicator.pk] = _result(indicator, measure)
    return results


def data_version(application):
    """A fingerprint of everything the computed values read: the pinned data versions and the cluster's tier and schools.
    `application` is anything that pins data versions of a cluster (an application; a yearly review).

    Two calls give the same string exactly when `compute_indicators` would give the same figures.
    """
    imports = application.data_versions.order_by("dataset", "id")
    parts = [f"{item.dataset}:{item.pk}:{item.fingerprint}" for item in imports]
    cluster = application.cluster
    parts.append(f"tier:{cluster.current_tier}:{cluster.tier_since}")
    parts.append(
        "certificates:"
        + ",".join(f"{pk}:{ended}" for pk, ended in cluster.certificates.order_by("pk").values_list("pk", "ended_on"))
    )
    parts.append(
        f"changes:{','.join(str(pk) for pk in TierChange.objects.filter(cluster=cluster).values_list('pk', flat=True))}"
    )
    schools = ClusterMembership.objects.filter(cluster=cluster).order_by("school_id")
    parts += [
        f"school:{school_id}:{role}:{stages}:{weak}"
        for school_id, role, stages, weak in schools.values_list(
            "school_id", "role", "school__stages", "school__is_relatively_weak"
        )
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()
