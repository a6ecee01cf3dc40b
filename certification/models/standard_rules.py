"""The rules of a well-formed standard, written once.

A standard travels as one plain dict (the format of ``fixtures/standards/*.json`` and of the Excel workbook):

    {tier, version, title, description, total_score, pass_score, publicity_days, validity_years, yearly_evaluators,
     disagreement_tolerance, aggregation, due_periods: [{step, working_days}],
     dimensions: [{code, title, indicators: [{code, title, description, source, max_score, method, metric,
                   comparator, threshold, threshold_high, levels: [{level, min_score, max_score, descriptor}],
                   veto, na_allowed, evidence: [{stage, code, title, required, dataset}]}]}]}

`validate_standard_data` checks that dict; `Indicator.clean` (the admin) runs `check_indicator`, the same rules for
one indicator. Loading (fixtures, Excel import, new versions) and publishing go through `validate_standard_data`.

This module sits below the models so that `Indicator.clean` can use it: it holds the vocabularies a standard is
written in and reads the models' field limits through the app registry when a check runs, never by import.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from itertools import pairwise

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certification.metrics import METRICS

from .tier import CERTIFIABLE


class Comparator(models.TextChoices):
    GTE = "gte", "≥"
    GT = "gt", ">"
    LTE = "lte", "≤"
    LT = "lt", "<"
    BETWEEN = "between", gettext_lazy("between (inclusive)")


class IndicatorMethod(models.TextChoices):
    COMPUTED = "computed", gettext_lazy("Computed")
    SCORED = "scored", gettext_lazy("Scored")


class StandardAggregation(models.TextChoices):
    MEAN = "mean", gettext_lazy("Mean")
    MEDIAN = "median", gettext_lazy("Median")
    TRIMMED_MEAN = "trimmed_mean", gettext_lazy("Trimmed mean (drop highest and lowest)")


class EvidenceStage(models.TextChoices):
    BASIC = "basic", gettext_lazy("Basic materials")
    PROCESS = "process", gettext_lazy("Process materials")
    OUTCOME = "outcome", gettext_lazy("Outcome materials")


class DueStep(models.TextChoices):
    """The people's steps of the two flows that are due a number of working days after they open: the keys of
    `settings.TASK_DUE_WORKING_DAYS` and of a standard's own periods (`Standard.due_working_days`). The flows'
    due nodes name one of these (`workflows.deadlines.period_of`); a test keeps the three lists equal."""

    SUBMIT_BASIC = "submit_basic", gettext_lazy("Submit the basic materials")
    SUBMIT_PROCESS = "submit_process", gettext_lazy("Submit the process materials")
    SUBMIT_OUTCOME = "submit_outcome", gettext_lazy("Submit the outcome materials")
    FORMAL_REVIEW = "formal_review", gettext_lazy("Formal review")
    ASSIGN_EVALUATORS = "assign_evaluators", gettext_lazy("Assign evaluators")
    SCORE = "score", gettext_lazy("Score the application")
    REPLACE_EVALUATOR = "replace_evaluator", gettext_lazy("Assign a replacement evaluator")
    RECONCILE = "reconcile", gettext_lazy("Reconcile the panel's result")
    DISTRICT_DECISION = "district_decision", gettext_lazy("District leader's decision")
    CITY_REVIEW = "city_review", gettext_lazy("City office review")
    CITY_DECISION = "city_decision", gettext_lazy("City leader's decision")
    RESOLVE_OBJECTIONS = "resolve_objections", gettext_lazy("Resolve the objections")
    REVIEW_SUBMIT_DATA = "review_submit_data", gettext_lazy("Yearly review: submit the year's data and evidence")
    REVIEW_ASSIGN_PANEL = "review_assign_panel", gettext_lazy("Yearly review: assign the evaluators")
    REVIEW_GIVE_OPINION = "review_give_opinion", gettext_lazy("Yearly review: give an evaluator's opinion")
    REVIEW_CONCLUDE = "review_conclude", gettext_lazy("Yearly review: conclude the review")
    REVIEW_LEADER_DECISION = "review_leader_decision", gettext_lazy("Yearly review: leader's decision")
    REVIEW_RESOLVE_OBJECTIONS = "review_resolve_objections", gettext_lazy("Yearly review: resolve the objections")


# A standard's period for one step: whole working days, at most about half a year of them. The settings' periods
# run from 5 to 20; a period beyond this bound is a typing error (days for working days, an extra zero).
MAX_DUE_WORKING_DAYS = 120


def parse_threshold(text):
    """A threshold is a decimal ("0.10", "5") or an exact fraction ("1/3"); returns a Fraction or raises ValueError."""
    text = (text or "").strip()
    if not text:
        raise ValueError("empty")
    if "/" in text:
        numerator, denominator = text.split("/", 1)
        value = Fraction(int(numerator.strip()), int(denominator.strip()))
    else:
        value = Fraction(Decimal(text))
    return value


# The most evaluators a standard may ask for in a yearly review (a panel, not a committee).
MAX_YEARLY_EVALUATORS = 9

# The fields a standard and an indicator store as they are checked (the rest are versions, links and children).
STANDARD_FIELDS = (
    "title",
    "description",
    "total_score",
    "pass_score",
    "publicity_days",
    "validity_years",
    "yearly_evaluators",
    "disagreement_tolerance",
    "aggregation",
    "due_working_days",
)
INDICATOR_FIELDS = (
    "code",
    "title",
    "description",
    "source",
    "max_score",
    "method",
    "metric",
    "comparator",
    "threshold",
    "threshold_high",
    "veto",
    "na_allowed",
)


def _field(model, field):
    """A field of a standard's model by name ("Indicator", "code"): its limits are the ones the database keeps."""
    return apps.get_model("certification", model)._meta.get_field(field)


# The structured data sets an evidence requirement can be filled by: exactly those the metrics read.
DATASETS = tuple(sorted({dataset for metric in METRICS.values() for dataset in metric.datasets}))

_YES = {"是", "yes", "true", "1", "y"}
_NO = {"否", "no", "false", "0", "n", ""}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a standard's data. `path` points into the dict, e.g. ("dimensions", 0, "code")."""

    path: tuple
    message: str


def number_text(value):
    """A Decimal as the shortest exact text: 5.00 → "5", 0.200 → "0.2"."""
    text = format(value.normalize(), "f")
    return text


class Checker:
    """Walks a standard's dict, collecting problems and returning cleaned values."""

    def __init__(self):
        self.problems = []

    def fail(self, path, message):
        self.problems.append(Problem(tuple(path), message))

    def text(self, value, path, model, field, *, required=True):
        if value is None:
            value = ""
        if isinstance(value, float | int | Decimal) and not isinstance(value, bool):
            value = number_text(Decimal(str(value)))
        if not isinstance(value, str):
            self.fail(path, _("Enter text here."))
            return ""
        value = value.strip()
        if required and not value:
            self.fail(path, _("This cannot be empty."))
        limit = _field(model, field).max_length
        if limit and len(value) > limit:
            self.fail(
                path, _("At most %(limit)s characters; this has %(length)s.") % {"limit": limit, "length": len(value)}
            )
        return value

    def decimal(self, value, path, model=None, field=None, *, positive=False):
        if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
            self.fail(path, _("Enter a number such as 5 or 2.5."))
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(path, _("Enter a number such as 5 or 2.5, not “%(value)s”.") % {"value": value})
            return None
        if not number.is_finite():
            self.fail(path, _("Enter a number such as 5 or 2.5, not “%(value)s”.") % {"value": value})
            return None
        if number < 0 or (positive and number == 0):
            self.fail(path, _("Enter a number above 0.") if positive else _("Enter a number of 0 or more."))
            return None
        if model is not None:
            model_field = _field(model, field)
            exponent = number.normalize().as_tuple().exponent
            places = max(0, -exponent)
            if places > model_field.decimal_places:
                self.fail(
                    path,
                    _("Use at most %(places)s decimal places, not “%(value)s”.")
                    % {"places": model_field.decimal_places, "value": value},
                )
                return None
            if abs(number) >= Decimal(10) ** (model_field.max_digits - model_field.decimal_places):
                self.fail(path, _("“%(value)s” is too large.") % {"value": value})
                return None
        return number

    def integer(self, value, path, *, minimum, maximum):
        number = self.decimal(value, path)
        if number is None:
            return None
        if number != number.to_integral_value() or not minimum <= number <= maximum:
            self.fail(
                path,
                _("Enter a whole number from %(minimum)s to %(maximum)s, not “%(value)s”.")
                % {"minimum": minimum, "maximum": maximum, "value": value},
            )
            return None
        return int(number)

    def boolean(self, value, path):
        if isinstance(value, bool):
            return value
        text = "" if value is None else str(value).strip().lower()
        if text in _YES:
            return True
        if text in _NO:
            return False
        self.fail(path, _("Answer 是 (yes) or 否 (no), not “%(value)s”.") % {"value": value})
        return False

    def choice(self, value, path, choices):
        text = "" if value is None else str(value).strip()
        if text not in choices:
            self.fail(
                path,
                _("“%(value)s” is not one of: %(choices)s.") % {"value": text, "choices": "、".join(choices)},
            )
            return None
        return text

    def threshold(self, value, path):
        if isinstance(value, float | int | Decimal) and not isinstance(value, bool):
            value = number_text(Decimal(str(value)))
        # Whether a threshold is required depends on the method and comparator; the caller says so.
        text = self.text(value, path, "Indicator", "threshold", required=False)
        if not text:
            return text, None
        try:
            return text, parse_threshold(text)
        except (ValueError, ArithmeticError):
            self.fail(
                path,
                _("Write a threshold as a number such as 0.15 or 5, or a fraction such as 1/3, not “%(value)s”.")
                % {"value": text},
            )
            return text, None


def _list(checker, data, key, path):
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        checker.fail((*path, key), _("Expected a list."))
        return []
    return value


def _dicts(checker, items, path, expected):
    """(path, item) for each dict in a list; anything else in it is a problem saying what was `expected`."""
    for k, raw in enumerate(items):
        if isinstance(raw, dict):
            yield (*path, k), raw
        else:
            checker.fail((*path, k), expected)


def check_levels(checker, raw_levels, path, max_score):
    levels = []
    names = set()
    expected = _("Expected a level with level, min_score, max_score and descriptor.")
    for here, raw in _dicts(checker, raw_levels, (*path, "levels"), expected):
        name = checker.text(raw.get("level"), (*here, "level"), "Indicator", "title")
        if name and name in names:
            checker.fail((*here, "level"), _("The level “%(level)s” appears twice.") % {"level": name})
        names.add(name)
        low = checker.decimal(raw.get("min_score"), (*here, "min_score"), "Indicator", "max_score")
        high = checker.decimal(raw.get("max_score"), (*here, "max_score"), "Indicator", "max_score")
        descriptor = checker.text(raw.get("descriptor"), (*here, "descriptor"), "Indicator", "description")
        if low is not None and high is not None and low >= high:
            checker.fail((*here, "max_score"), _("The highest score must be above the lowest score."))
            low = high = None
        levels.append({"level": name, "min_score": low, "max_score": high, "descriptor": descriptor})
    if len(levels) < 2:
        checker.fail((*path, "levels"), _("A scored indicator needs at least two level descriptors."))
        return levels
    if max_score is None or any(level["min_score"] is None for level in levels):
        return levels
    # The bands share their edges (0–3, 3–6, 6–10): together they cover 0..max exactly; an edge belongs to the
    # higher band.
    bands = sorted(levels, key=lambda level: level["min_score"])
    edges_ok = bands[0]["min_score"] == 0 and bands[-1]["max_score"] == max_score
    edges_ok = edges_ok and all(later["min_score"] == earlier["max_score"] for earlier, later in pairwise(bands))
    if not edges_ok:
        shown = "、".join(f"{number_text(b['min_score'])}–{number_text(b['max_score'])}" for b in bands)
        checker.fail(
            (*path, "levels"),
            _(
                "The levels must cover 0 to %(max)s with no gap or overlap, each starting where the one below ends "
                "(for example 0–3, 3–6, 6–%(max)s); they are %(bands)s."
            )
            % {"max": number_text(max_score), "bands": shown},
        )
    return levels


def check_evidence(checker, raw_items, path):
    items = []
    codes = set()
    expected = _("Expected an evidence requirement with stage, code, title, required and dataset.")
    for here, raw in _dicts(checker, raw_items, (*path, "evidence"), expected):
        stage = checker.choice(raw.get("stage"), (*here, "stage"), EvidenceStage.values)
        code = checker.text(raw.get("code"), (*here, "code"), "EvidenceRequirement", "code")
        if code and code in codes:
            checker.fail(
                (*here, "code"), _("The evidence code “%(code)s” appears twice in this indicator.") % {"code": code}
            )
        codes.add(code)
        title = checker.text(raw.get("title"), (*here, "title"), "EvidenceRequirement", "title")
        required = checker.boolean(raw.get("required", True), (*here, "required"))
        dataset = (
            "" if raw.get("dataset") in (None, "") else checker.choice(raw["dataset"], (*here, "dataset"), DATASETS)
        )
        items.append({"stage": stage, "code": code, "title": title, "required": required, "dataset": dataset or ""})
    return items


def check_indicator(checker, raw, path, *, with_evidence=True):
    """Check one indicator's dict; `with_evidence=False` leaves out the rule that ties a metric to the evidence
    filled by its data sets (an indicator alone, as the admin edits it, has no evidence rows yet)."""
    indicator = {
        "code": checker.text(raw.get("code"), (*path, "code"), "Indicator", "code"),
        "title": checker.text(raw.get("title"), (*path, "title"), "Indicator", "title"),
        "description": checker.text(
            raw.get("description"), (*path, "description"), "Indicator", "description", required=False
        ),
        "source": checker.text(raw.get("source"), (*path, "source"), "Indicator", "source", required=False),
        "max_score": checker.decimal(
            raw.get("max_score"), (*path, "max_score"), "Indicator", "max_score", positive=True
        ),
        "method": checker.choice(raw.get("method"), (*path, "method"), IndicatorMethod.values),
        "veto": checker.boolean(raw.get("veto", False), (*path, "veto")),
        "na_allowed": checker.boolean(raw.get("na_allowed", False), (*path, "na_allowed")),
        "metric": "",
        "comparator": "",
        "threshold": "",
        "threshold_high": "",
        "levels": [],
    }
    raw_levels = _list(checker, raw, "levels", path)
    indicator["evidence"] = check_evidence(checker, _list(checker, raw, "evidence", path), path)
    blank = ("", None)
    if indicator["method"] == IndicatorMethod.COMPUTED:
        metric = checker.choice(raw.get("metric"), (*path, "metric"), list(METRICS))
        comparator = checker.choice(raw.get("comparator"), (*path, "comparator"), Comparator.values)
        threshold, low = checker.threshold(raw.get("threshold"), (*path, "threshold"))
        if not threshold:
            checker.fail((*path, "threshold"), _("A computed indicator needs a threshold."))
        high_text, high = "", None
        if comparator == Comparator.BETWEEN:
            high_text, high = checker.threshold(raw.get("threshold_high"), (*path, "threshold_high"))
            if not high_text:
                checker.fail((*path, "threshold_high"), _("'Between' needs an upper threshold."))
            elif low is not None and high is not None and high <= low:
                checker.fail((*path, "threshold_high"), _("The upper threshold must be above the threshold."))
        elif raw.get("threshold_high") not in blank:
            checker.fail((*path, "threshold_high"), _("Only 'between' takes an upper threshold."))
        if metric:
            check_threshold_range(
                checker, METRICS[metric], (low, threshold, path, "threshold"), (high, high_text, path, "threshold_high")
            )
            have = {item["dataset"] for item in indicator["evidence"]}
            for dataset in METRICS[metric].datasets if with_evidence else ():
                if dataset not in have:
                    checker.fail(
                        (*path, "evidence"),
                        _(
                            "The metric %(metric)s reads the data set “%(dataset)s”: add an evidence requirement filled by it."
                        )
                        % {"metric": metric, "dataset": dataset},
                    )
        if raw_levels:
            checker.fail((*path, "levels"), _("Only scored indicators have level descriptors."))
        indicator.update(
            metric=metric or "", comparator=comparator or "", threshold=threshold, threshold_high=high_text
        )
    elif indicator["method"] == IndicatorMethod.SCORED:
        for key in ("metric", "comparator", "threshold", "threshold_high"):
            if raw.get(key) not in blank:
                checker.fail((*path, key), _("A scored indicator has no metric, comparator or threshold."))
        indicator["levels"] = check_levels(checker, raw_levels, path, indicator["max_score"])
    return indicator


def check_threshold_range(checker, metric, *bounds):
    for value, text, path, key in bounds:
        if value is None:
            continue
        if metric.unit == "ratio" and not 0 <= value <= 1:
            checker.fail(
                (*path, key),
                _("%(metric)s is a rate, a fraction of 1: write 0.10 for 10%%, not %(value)s.")
                % {"metric": metric.code, "value": text},
            )
        elif metric.unit == "points" and not -1 <= value <= 1:
            checker.fail(
                (*path, key),
                _("%(metric)s is a difference of two rates, between -1 and 1: write 0 for “at least the average”.")
                % {"metric": metric.code},
            )
        elif metric.unit in {"count", "years"} and value < 0:
            checker.fail((*path, key), _("%(metric)s cannot be negative.") % {"metric": metric.code})


def check_due_periods(checker, data):
    """The standard's own due periods (`due_periods`: [{step, working_days}]) as {step: working days}.

    A step is one of `DueStep`, named once; its period a whole number of working days from 1 to
    `MAX_DUE_WORKING_DAYS`. A step without a number is left to the system settings (the workbook lists every step).
    """
    periods = {}
    expected = _("Expected a step with step and working_days.")
    for here, raw in _dicts(checker, _list(checker, data, "due_periods", ()), ("due_periods",), expected):
        step = checker.choice(raw.get("step"), (*here, "step"), DueStep.values)
        days = raw.get("working_days")
        if days is None or (isinstance(days, str) and not days.strip()):
            continue
        days = _working_days(checker, days, (*here, "working_days"))
        if step is None or days is None:
            continue
        if step in periods:
            checker.fail(
                (*here, "step"),
                _("The step “%(step)s” has more than one period.") % {"step": f"{step} {DueStep(step).label}"},
            )
            continue
        periods[step] = days
    return {step: periods[step] for step in DueStep.values if step in periods}


def _working_days(checker, value, path):
    """A period as a whole number of working days within bounds; anything else (text, 2.5, 0, 121) is one problem
    that says what to write."""
    try:
        number = None if isinstance(value, bool) else Decimal(str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        number = None
    if number is None or not 1 <= number <= MAX_DUE_WORKING_DAYS:
        checker.fail(
            path,
            _("Enter a whole number from %(minimum)s to %(maximum)s, not “%(value)s”.")
            % {"minimum": 1, "maximum": MAX_DUE_WORKING_DAYS, "value": value},
        )
        return None
    return int(number)


def validate_standard_data(data):
    """Check a standard's dict against every rule; return (cleaned dict, [Problem, ...]).

    The cleaned dict has Decimals for scores and booleans for flags; it is only meaningful when there are no
    problems.
    """
    checker = Checker()
    if not isinstance(data, dict):
        return {}, [Problem((), _("A standard must be an object with its fields and dimensions."))]
    cleaned = {
        "tier": checker.choice(data.get("tier"), ("tier",), [str(tier) for tier in CERTIFIABLE]),
        "title": checker.text(data.get("title"), ("title",), "Standard", "title"),
        "description": checker.text(
            data.get("description"), ("description",), "Standard", "description", required=False
        ),
        "total_score": checker.decimal(
            data.get("total_score"), ("total_score",), "Standard", "total_score", positive=True
        ),
        "pass_score": checker.decimal(data.get("pass_score"), ("pass_score",), "Standard", "pass_score", positive=True),
        "publicity_days": checker.integer(data.get("publicity_days", 7), ("publicity_days",), minimum=1, maximum=365),
        "validity_years": checker.integer(data.get("validity_years", 3), ("validity_years",), minimum=1, maximum=20),
        "yearly_evaluators": checker.integer(
            data.get("yearly_evaluators", 0), ("yearly_evaluators",), minimum=0, maximum=MAX_YEARLY_EVALUATORS
        ),
        "disagreement_tolerance": checker.decimal(
            data.get("disagreement_tolerance", "0.2"), ("disagreement_tolerance",), "Standard", "disagreement_tolerance"
        ),
        "aggregation": checker.choice(
            data.get("aggregation") or StandardAggregation.MEAN, ("aggregation",), StandardAggregation.values
        ),
    }
    version = data.get("version")
    cleaned["version"] = (
        None if version in (None, "") else checker.integer(version, ("version",), minimum=1, maximum=32767)
    )
    tolerance = cleaned["disagreement_tolerance"]
    if tolerance is not None and tolerance > 1:
        checker.fail(("disagreement_tolerance",), _("The tolerance is a share of the maximum score, from 0 to 1."))
    if (
        cleaned["pass_score"] is not None
        and cleaned["total_score"] is not None
        and cleaned["pass_score"] > cleaned["total_score"]
    ):
        checker.fail(("pass_score",), _("The pass score is above the total score."))

    cleaned["due_working_days"] = check_due_periods(checker, data)

    dimensions = []
    dimension_codes, indicator_codes = set(), set()
    raw_dimensions = _list(checker, data, "dimensions", ())
    if not raw_dimensions:
        checker.fail(("dimensions",), _("The standard has no indicators."))
    for i, raw_dimension in enumerate(raw_dimensions):
        path = ("dimensions", i)
        if not isinstance(raw_dimension, dict):
            checker.fail(path, _("Expected a dimension with code, title and indicators."))
            continue
        code = checker.text(raw_dimension.get("code"), (*path, "code"), "Dimension", "code")
        if code and code in dimension_codes:
            checker.fail((*path, "code"), _("The dimension code “%(code)s” appears twice.") % {"code": code})
        dimension_codes.add(code)
        dimension = {
            "code": code,
            "title": checker.text(raw_dimension.get("title"), (*path, "title"), "Dimension", "title"),
            "indicators": [],
        }
        raw_indicators = _list(checker, raw_dimension, "indicators", path)
        if not raw_indicators:
            checker.fail((*path, "indicators"), _("The dimension “%(code)s” has no indicators.") % {"code": code})
        for j, raw_indicator in enumerate(raw_indicators):
            here = (*path, "indicators", j)
            if not isinstance(raw_indicator, dict):
                checker.fail(here, _("Expected an indicator."))
                continue
            indicator = check_indicator(checker, raw_indicator, here)
            # Unique across the whole standard, not only within a dimension: level and evidence rows of the
            # workbook name their indicator by code alone.
            if indicator["code"] and indicator["code"] in indicator_codes:
                checker.fail(
                    (*here, "code"),
                    _("The indicator code “%(code)s” appears twice.") % {"code": indicator["code"]},
                )
            indicator_codes.add(indicator["code"])
            dimension["indicators"].append(indicator)
        dimensions.append(dimension)
    cleaned["dimensions"] = dimensions

    scores = [ind["max_score"] for dim in dimensions for ind in dim["indicators"]]
    if cleaned["total_score"] is not None and scores and None not in scores:
        total = sum(scores, start=Decimal(0))
        if total != cleaned["total_score"]:
            checker.fail(
                ("total_score",),
                _("The indicators' maximum scores add up to %(sum)s, not the total score %(total)s.")
                % {"sum": number_text(total), "total": number_text(cleaned["total_score"])},
            )
    return cleaned, checker.problems


def describe_path(data, path):
    """A readable place for a problem: "B › B1 › threshold" rather than list indices."""
    parts, node = [], data
    for position, step in enumerate(path):
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and step < len(node) else {}
            label = node.get("code") if isinstance(node, dict) else None
            parts.append(str(label) if label else str(step + 1))
            continue
        node = node.get(step, {}) if isinstance(node, dict) else {}
        # A list's name is noise before one of its items ("dimensions", 1 → "B"); alone it is the place.
        followed_by_index = position + 1 < len(path) and isinstance(path[position + 1], int)
        if not followed_by_index:
            parts.append(step)
    return " › ".join(parts)


def indicator_errors(raw):
    """The problems of one indicator's fields, as {field: [message, ...]}: what `Indicator.clean` raises."""
    checker = Checker()
    check_indicator(checker, raw, (), with_evidence=False)
    errors = {}
    for problem in checker.problems:
        errors.setdefault(problem.path[0] if problem.path else NON_FIELD_ERRORS, []).append(problem.message)
    return errors
