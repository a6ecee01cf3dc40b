"""The registry of metrics a computed indicator can name.

Each metric is computed from an application's structured data (see DOMAIN.md, "Structured data behind computed
indicators"). Rates are exact fractions of 1 (0.10 is 10%); thresholds are written the same way ("0.10", "1/3").
A metric whose population is empty for a cluster (no kindergarten, no junior school, no weak school) is N/A.

The computations live in `certification.domain.computed` (registered under these codes; a metric without one
stops the app from starting); this module only names and describes them so that
standards can be authored and validated without them.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Metric:
    code: str
    label: str
    unit: str  # "ratio" (shown as %), "count", "years", "points" (difference of two ratios, shown in percentage points)
    datasets: tuple
    # A ratio shown as a plain number, not a percentage: the inter-school difference rate is a coefficient of
    # variation and seed 002 states its bound as 0.15.
    as_percent: bool = True


_ALL = [
    Metric(
        "rotation_same_stage_rate",
        _("Same-stage teacher rotation ÷ eligible teachers"),
        "ratio",
        ("rotation", "eligible_teachers"),
    ),
    Metric(
        "rotation_cross_stage_rate",
        _("Cross-stage teacher rotation ÷ eligible teachers"),
        "ratio",
        ("rotation", "eligible_teachers"),
    ),
    Metric(
        "rotation_core_member_rate",
        _("Core↔member teacher rotation ÷ eligible teachers"),
        "ratio",
        ("rotation", "eligible_teachers"),
    ),
    # Backbone shares are per kind of rotation: seed 000 asks it of same-stage and of cross-stage rotation
    # separately ("均不低于"), seed 002 of the flow between core and member schools.
    Metric(
        "backbone_share_same_stage", _("Backbone teachers ÷ teachers in same-stage rotation"), "ratio", ("rotation",)
    ),
    Metric(
        "backbone_share_cross_stage", _("Backbone teachers ÷ teachers in cross-stage rotation"), "ratio", ("rotation",)
    ),
    Metric(
        "backbone_share_core_member",
        _("Backbone teachers ÷ teachers rotating between core and member schools"),
        "ratio",
        ("rotation",),
    ),
    Metric(
        "kindergarten_rotation_rate",
        _("Kindergarten rotation ÷ eligible kindergarten teachers"),
        "ratio",
        ("rotation", "eligible_teachers"),
    ),
    Metric("kindergarten_backbone_share", _("Backbone share of rotated kindergarten teachers"), "ratio", ("rotation",)),
    Metric(
        "rotation_term_min_years",
        _("Shortest term of a rotation between core and member schools (years)"),
        "years",
        ("rotation",),
    ),
    Metric("weak_school_inflow_min", _("Fewest teachers flowing into a receiving weak school"), "count", ("rotation",)),
    Metric("shared_course_count", _("Shared courses in the cluster"), "count", ("shared_courses",)),
    Metric("shared_course_growth", _("Shared courses compared with last year"), "count", ("shared_courses",)),
    Metric(
        "shared_courses_per_school_semester_min",
        _("Fewest shared courses of a school in a semester"),
        "count",
        ("shared_courses",),
    ),
    Metric("high_quality_course_count", _("High-quality shared courses"), "count", ("shared_courses",)),
    Metric(
        "high_quality_course_student_share",
        _("Students in the offered grades who took a high-quality shared course"),
        "ratio",
        ("shared_courses",),
    ),
    Metric("shared_resource_student_coverage", _("Students covered by shared resources"), "ratio", ("school_stats",)),
    Metric("teacher_participation_rate", _("Teachers taking part in cluster work"), "ratio", ("school_stats",)),
    Metric(
        "pass_share_margin", _("Share at pass level or above minus district average"), "points", ("academic_results",)
    ),
    Metric(
        "inter_school_difference_rate_max",
        _("Largest inter-school difference rate within a school stage"),
        "ratio",
        ("academic_results",),
        as_percent=False,
    ),
    Metric("junior_pass_rate", _("Junior-school academic proficiency pass rate"), "ratio", ("academic_results",)),
    Metric("quota_plan_completion", _("Quota-to-school plan completion"), "ratio", ("enrolment",)),
    Metric(
        "quality_senior_entry_margin",
        _("Quality senior-high entry rate minus district average"),
        "points",
        ("enrolment",),
    ),
    Metric("satisfaction_min", _("Lowest satisfaction of parents and teachers"), "ratio", ("satisfaction",)),
    Metric("satisfaction_pooled", _("Satisfaction of all respondents taken together"), "ratio", ("satisfaction",)),
    Metric(
        "weak_school_improvement_min",
        _("Smallest year-on-year gain of a weak school's share at pass level or above"),
        "points",
        ("academic_results",),
    ),
    Metric("district_model_years_held", _("Years the district-model tier has been held"), "years", ()),
]

METRICS = {metric.code: metric for metric in _ALL}
METRIC_CHOICES = [(metric.code, metric.label) for metric in _ALL]


COMPARATOR_SYMBOLS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<"}


def _plain(value, places):
    """A Fraction or Decimal rounded half-up to `places` decimals, without trailing zeros: 12.5, 33.33, 3."""
    if isinstance(value, Fraction):
        with localcontext() as context:
            context.prec = 40
            value = Decimal(value.numerator) / Decimal(value.denominator)
    text = format(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text == "-0" else text


def format_percent(value):
    """A fraction of 1 as a percentage: Fraction(1, 8) → "12.5%"."""
    return f"{_plain(value * 100, 2)}%"


def format_value(metric, value):
    """A metric's value as a person reads it: "12.5%", "0.1234", "+1.5 percentage points", "3 years", "5"."""
    if value is None:
        return ""
    unit = metric.unit if metric else ""
    if unit == "ratio":
        return format_percent(value) if metric.as_percent else _plain(value, 4)
    if unit == "points":
        sign = "+" if value > 0 else ""
        return gettext_now("%(value)s percentage points") % {"value": sign + _plain(value * 100, 2)}
    if unit == "years":
        return gettext_now("%(value)s years") % {"value": _plain(value, 2)}
    return _plain(value, 2)


def format_threshold(text, metric):
    """A stored threshold ("0.10", "1/3", "5") as a person reads it: "10%", "1/3", "5"."""
    text = (text or "").strip()
    if not text or "/" in text:
        return text  # fractions read best as written (seed 000: 不少于三分之一 → 1/3)
    value = Decimal(text)
    if metric is not None and metric.unit == "points":
        return gettext_now("%(value)s percentage points") % {"value": _plain(value * 100, 2)}
    return format_value(metric, value)


def describe_rule(indicator):
    """The pass rule of a computed indicator: "≥ 10%", "between 10%–20%", "< 0.15", "≥ 1/3"; "" when there is none."""
    if not indicator.comparator:
        return ""
    metric = METRICS.get(indicator.metric)
    low = format_threshold(indicator.threshold, metric)
    if indicator.comparator == "between":
        high = format_threshold(indicator.threshold_high, metric)
        return gettext_now("between %(low)s–%(high)s") % {"low": low, "high": high}
    return f"{COMPARATOR_SYMBOLS[indicator.comparator]} {low}"
