"""Computed indicators: every metric of `certification.metrics`, computed from an application's imported data.

How the figures are defined (DOMAIN.md "Quantitative rules", seeds 000 and 002):

* Years are school years (学年, 2025 = Sept 2025–Aug 2026). A metric measures the LATEST school year present in
  its data; "last year" is the school year before it. Earlier years are imported into the same application
  (one workbook may hold several years), so every figure is traceable to the rows this application shows.
* Rotation rates: rotations that START in the measured year (a start from August on counts in that school year)
  ÷ the eligible teachers of every school of the cluster in that year (the year of the eligible-teacher data).
  Same-stage: from stage = to stage; cross-stage: they differ; core↔member: one side is a lead/core school and the
  other a member school. Kindergarten: rotations out of the kindergarten stage ÷ eligible teachers of the schools
  that teach kindergarten; N/A when no school of the cluster does. The backbone shares and the shortest term are
  over the same rotations. Teams into weak schools: per relatively weak school that receives teachers in the year,
  how many it receives; the metric is the smallest (0 when weak schools receive none); N/A without weak schools.
* Shared courses: a course is (name, provider); the count is distinct courses of the year. Per school per
  semester: for every school of the cluster and every semester of the year present in the data, the courses it
  provides or takes part in; the metric is the smallest. Growth: this year's count minus last year's.
  High-quality student share: Σ students who took a high-quality course ÷ Σ students in the grades it is offered
  in (the sheet's 开设年级学生数), over the year's high-quality course offerings.
* School statistics: Σ covered ÷ Σ students and Σ teachers in cluster work ÷ Σ teachers, over every school.
* Academic results, per stage: shares weighted by the students tested; the pass-share margin is the smallest
  (cluster − district average) over stages. 校际差异率 = population standard deviation ÷ mean of the schools' mean
  scores within a stage; the metric is the largest over stages with two or more schools. Its square root is
  irrational, so the pass/fail comparison is exact on squares (CV < t ⇔ variance < (t·mean)²) and the value shown
  is rounded. Junior pass rate: weighted share of junior rows (N/A without a junior school). Weak-school
  improvement: per weak school and stage, this year's pass share minus last year's; the smallest.
* Enrolment (junior schools; N/A without one): Σ filled ÷ Σ plan; entry-rate margin weighted by graduates.
* Satisfaction: satisfied ÷ respondents of parents and of teachers; the smaller.
* Years at district-model tier: full years from the date the cluster reached it to the application's opening.

Values are computed on every read, never stored: they follow the data as soon as an import finishes.
`data_version` fingerprints the inputs so that a score sheet can pin what it saw.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from math import isqrt

from django.utils import timezone
from django.utils.translation import gettext as _

from certification.datasets import DATASETS
from certification.metrics import METRICS, describe_rule, format_percent, format_value
from certification.models import (
    AcademicResult,
    ClusterMembership,
    DatasetImport,
    EligibleTeachers,
    EnrolmentResult,
    Indicator,
    RotationRecord,
    SatisfactionSurvey,
    School,
    SchoolStats,
    SharedCourse,
    Stage,
    Tier,
    TierChange,
)

KINDERGARTEN, JUNIOR = Stage.KINDERGARTEN.value, Stage.JUNIOR.value
STAGE_LABELS = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中"}


@dataclass(frozen=True)
class ComputedResult:
    indicator: Indicator
    value: Fraction | None
    not_applicable: bool
    passed: bool | None
    display: str
    threshold_display: str
    rows: list
    detail: dict
    missing_data: str
    note: str = ""


@dataclass
class Measure:
    """What a metric function found. `exact` stands in for `value` in the comparison when the value is irrational."""

    value: Fraction | None = None
    rows: list = field(default_factory=list)
    detail: dict = field(default_factory=dict)
    missing: str = ""
    nothing_to_measure: str = ""  # why the metric is N/A for this cluster
    exact: object = None
    note: str = ""  # what a reader must know to read the value right (e.g. why it is 0%)


class SquareRoot:
    """√q for a Fraction q ≥ 0, compared exactly with Fractions: √q < t ⇔ q < t² for t ≥ 0."""

    def __init__(self, square):
        self.square = square

    def _key(self, other):
        other = Fraction(other)
        return (other < 0, other * other)

    def __lt__(self, other):
        negative, squared = self._key(other)
        return not negative and self.square < squared

    def __le__(self, other):
        negative, squared = self._key(other)
        return not negative and self.square <= squared

    def __gt__(self, other):
        negative, squared = self._key(other)
        return negative or self.square > squared

    def __ge__(self, other):
        negative, squared = self._key(other)
        return negative or self.square >= squared


def _approx_sqrt(square, places=12):
    """√square rounded half-up to `places` decimals, as a Fraction. Only for showing: comparisons use SquareRoot."""
    scaled = square * 10 ** (2 * places)
    root = isqrt(scaled.numerator // scaled.denominator)
    if 4 * scaled >= (2 * root + 1) ** 2:  # √scaled ≥ root + ½
        root += 1
    return Fraction(root, 10**places)


def _percent(decimal_value):
    return Fraction(decimal_value) / 100


class ApplicationData:
    """The application's current rows, loaded once per data set as dicts, and its cluster's schools."""

    def __init__(self, application):
        self.application = application
        self.cluster = application.cluster
        memberships = list(ClusterMembership.objects.filter(cluster=self.cluster).select_related("school"))
        self.members = [membership.school for membership in memberships]
        # Community schools (社区学校, seed 003) are members without pupils or teachers of their own to count.
        self.schools = [school for school in self.members if school.kind != School.Kind.COMMUNITY]
        self.lead_ids = {m.school_id for m in memberships if m.role in ClusterMembership.LEAD_ROLES}
        self.names = {school.pk: school.name for school in self.members}
        self.imports = {
            item.dataset: item
            for item in DatasetImport.objects.filter(application=application).current().order_by("created", "id")
        }
        self._cache = {}

    def teaching(self, stage):
        return [school for school in self.members if school.teaches(stage)]

    @property
    def weak_ids(self):
        return {school.pk for school in self.members if school.is_relatively_weak}

    def name(self, school_id):
        return self.names.get(school_id, str(school_id))

    def rows(self, dataset):
        """The current rows of `dataset` as dicts (shared between results), [] when nothing is imported."""
        if dataset not in self._cache:
            loader = getattr(self, f"_load_{dataset}")
            self._cache[dataset] = loader() if dataset in self.imports else []
        return self._cache[dataset]

    def _source(self, dataset, record):
        return {
            "dataset": dataset,
            "import_id": record["dataset_import_id"],
            "row": record["row_number"],
            "source": _("%(sheet)s, row %(row)s") % {"sheet": DATASETS[dataset].title, "row": record["row_number"]},
        }

    def _values(self, model, dataset, *fields):
        records = model.objects.current(self.application).order_by("row_number")
        return [
            self._source(dataset, record) | {name: record[name] for name in fields}
            for record in records.values("dataset_import_id", "row_number", *fields)
        ]

    def _named(self, rows, *school_fields):
        for row in rows:
            for key in school_fields:
                row[key] = self.name(row.pop(f"{key}_id"))
        return rows

    def _load_rotation(self):
        rows = self._values(
            RotationRecord,
            "rotation",
            "teacher",
            "from_school_id",
            "to_school_id",
            "from_stage",
            "to_stage",
            "backbone",
            "start_date",
            "term_years",
            "year",
        )
        for row in rows:
            row["from_school_pk"], row["to_school_pk"] = row["from_school_id"], row["to_school_id"]
        return self._named(rows, "from_school", "to_school")

    def _load_eligible_teachers(self):
        rows = self._values(EligibleTeachers, "eligible_teachers", "school_id", "year", "teachers")
        for row in rows:
            row["school_pk"] = row["school_id"]
        return self._named(rows, "school")

    def _load_shared_courses(self):
        rows = self._values(
            SharedCourse,
            "shared_courses",
            "course",
            "provider_id",
            "semester",
            "year",
            "participant_ids",
            "students",
            "high_quality",
            "grade_students",
        )
        for row in rows:
            row["provider_pk"] = row["provider_id"]
            row["participants"] = "、".join(self.name(pk) for pk in row["participant_ids"])
        return self._named(rows, "provider")

    def _load_school_stats(self):
        rows = self._values(
            SchoolStats,
            "school_stats",
            "school_id",
            "year",
            "students",
            "teachers",
            "teachers_in_cluster_work",
            "students_covered",
        )
        for row in rows:
            row["school_pk"] = row["school_id"]
        return self._named(rows, "school")

    def _load_academic_results(self):
        rows = self._values(
            AcademicResult,
            "academic_results",
            "school_id",
            "stage",
            "year",
            "students",
            "mean_score",
            "pass_share",
            "district_pass_share",
        )
        for row in rows:
            row["school_pk"] = row["school_id"]
        return self._named(rows, "school")

    def _load_enrolment(self):
        rows = self._values(
            EnrolmentResult,
            "enrolment",
            "school_id",
            "year",
            "graduates",
            "quota_plan",
            "quota_filled",
            "quality_entry_rate",
            "district_quality_entry_rate",
        )
        for row in rows:
            row["school_pk"] = row["school_id"]
        return self._named(rows, "school")

    def _load_satisfaction(self):
        return self._values(SatisfactionSurvey, "satisfaction", "group", "year", "respondents", "satisfied")


def _missing(dataset):
    return _("No “%(dataset)s” data has been imported.") % {"dataset": DATASETS[dataset].title}


def _latest_year(rows):
    return max((row["year"] for row in rows), default=None)


def _missing_schools(data, rows, dataset, year, schools=None):
    """A message naming the schools with no row in `year`, or ""."""
    present = {row["school_pk"] for row in rows if row["year"] == year}
    absent = [school.name for school in (schools if schools is not None else data.schools) if school.pk not in present]
    if not absent:
        return ""
    return _("“%(dataset)s” has no row for %(year)s for: %(schools)s.") % {
        "dataset": DATASETS[dataset].title,
        "year": year,
        "schools": "、".join(absent),
    }


def _ratio_detail(year, numerator, denominator, **extra):
    return {"year": year, "numerator": numerator, "denominator": denominator, **extra}


# Rotation -----------------------------------------------------------------------------------------------------


def _rotation_base(data, *, eligible_schools=None, need_eligible=True):
    """(year, rotations of the year, eligible rows of the year, Measure-with-missing or None)."""
    rotations, eligible = data.rows("rotation"), data.rows("eligible_teachers")
    if "rotation" not in data.imports:
        return None, [], [], Measure(missing=_missing("rotation"))
    if need_eligible and "eligible_teachers" not in data.imports:
        return None, [], [], Measure(missing=_missing("eligible_teachers"))
    year = _latest_year(eligible) if need_eligible else _latest_year(rotations)
    year_rotations = [row for row in rotations if row["year"] == year]
    year_eligible = [row for row in eligible if row["year"] == year]
    if eligible_schools is not None:
        ids = {school.pk for school in eligible_schools}
        year_eligible = [row for row in year_eligible if row["school_pk"] in ids]
    if need_eligible:
        absent = _missing_schools(data, eligible, "eligible_teachers", year, eligible_schools)
        if absent:
            return year, year_rotations, year_eligible, Measure(missing=absent, rows=year_eligible)
    return year, year_rotations, year_eligible, None


def _rotation_rate(data, selected, *, eligible_schools=None, label):
    year, rotations, eligible, problem = _rotation_base(data, eligible_schools=eligible_schools)
    if problem is not None:
        return problem
    counted = [row for row in rotations if selected(row)]
    denominator = sum(row["teachers"] for row in eligible)
    if denominator == 0:
        return Measure(rows=eligible, missing=_("The eligible teachers add up to 0 in %(year)s.") % {"year": year})
    return Measure(
        value=Fraction(len(counted), denominator),
        rows=counted + eligible,
        detail=_ratio_detail(year, len(counted), denominator, counted=label),
    )


def rotation_same_stage_rate(data):
    return _rotation_rate(data, lambda row: row["from_stage"] == row["to_stage"], label=_("same-stage rotations"))


def rotation_cross_stage_rate(data):
    return _rotation_rate(data, lambda row: row["from_stage"] != row["to_stage"], label=_("cross-stage rotations"))


def no_core_school_note():
    """Why a core↔member rotation rate is 0% in a cluster whose membership names no lead or core school."""
    return _(
        "No lead or core school is designated in this cluster, so no rotation counts as between a core and a "
        "member school and the figure is 0%. Designate the core schools in the cluster's membership."
    )


def metric_notes(cluster):
    """{metric code: note} for the metrics whose value needs a word of explanation in this cluster."""
    designated = cluster.memberships.filter(role__in=ClusterMembership.LEAD_ROLES).exists()
    return {} if designated else {"rotation_core_member_rate": no_core_school_note()}


def rotation_core_member_rate(data):
    leads = data.lead_ids

    def between_core_and_member(row):
        return (row["from_school_pk"] in leads) != (row["to_school_pk"] in leads)

    measure = _rotation_rate(data, between_core_and_member, label=_("rotations between a core and a member school"))
    if not leads:
        measure.note = no_core_school_note()
    return measure


def _no_kindergarten(data):
    if not data.teaching(KINDERGARTEN):
        return _("The cluster has no kindergarten.")
    return ""


def kindergarten_rotation_rate(data):
    reason = _no_kindergarten(data)
    if reason:
        return Measure(nothing_to_measure=reason)
    return _rotation_rate(
        data,
        lambda row: row["from_stage"] == KINDERGARTEN,
        eligible_schools=data.teaching(KINDERGARTEN),
        label=_("kindergarten rotations"),
    )


def _backbone_share(data, selected, label):
    year, rotations, _eligible, problem = _rotation_base(data, need_eligible=False)
    if problem is not None:
        return problem
    rotated = [row for row in rotations if selected(row)]
    if not rotated:
        return Measure(missing=_("No %(what)s start in %(year)s.") % {"what": label, "year": year})
    backbone = [row for row in rotated if row["backbone"]]
    return Measure(
        value=Fraction(len(backbone), len(rotated)),
        rows=rotated,
        detail=_ratio_detail(year, len(backbone), len(rotated), counted=_("backbone teachers")),
    )


def backbone_share_of_rotated(data):
    return _backbone_share(data, lambda row: True, _("rotations"))


def kindergarten_backbone_share(data):
    reason = _no_kindergarten(data)
    if reason:
        return Measure(nothing_to_measure=reason)
    return _backbone_share(data, lambda row: row["from_stage"] == KINDERGARTEN, _("kindergarten rotations"))


def rotation_term_min_years(data):
    year, rotations, _eligible, problem = _rotation_base(data, need_eligible=False)
    if problem is not None:
        return problem
    if not rotations:
        return Measure(missing=_("No %(what)s start in %(year)s.") % {"what": _("rotations"), "year": year})
    shortest = min(rotations, key=lambda row: row["term_years"])
    return Measure(
        value=Fraction(shortest["term_years"]),
        rows=sorted(rotations, key=lambda row: row["term_years"]),
        detail={"year": year, "rotations": len(rotations), "shortest": shortest["source"]},
    )


def weak_school_inflow_min(data):
    weak = [school for school in data.members if school.is_relatively_weak]
    if not weak:
        return Measure(nothing_to_measure=_("The cluster has no relatively weak school."))
    year, rotations, _eligible, problem = _rotation_base(data, need_eligible=False)
    if problem is not None:
        return problem
    inflow = {school.pk: [row for row in rotations if row["to_school_pk"] == school.pk] for school in weak}
    receiving = {pk: rows for pk, rows in inflow.items() if rows}
    breakdown = [{"label": data.name(school.pk), "value": len(inflow[school.pk])} for school in weak]
    value = min((len(rows) for rows in receiving.values()), default=0)
    return Measure(
        value=Fraction(value),
        rows=[row for rows in inflow.values() for row in rows],
        detail={"year": year, "breakdown": breakdown},
    )


# Shared courses -----------------------------------------------------------------------------------------------


def _courses_base(data):
    rows = data.rows("shared_courses")
    if "shared_courses" not in data.imports:
        return None, [], Measure(missing=_missing("shared_courses"))
    year = _latest_year(rows)
    return year, [row for row in rows if row["year"] == year], None


def _distinct_courses(rows):
    return {(row["course"], row["provider_pk"]) for row in rows}


def shared_course_count(data):
    year, rows, problem = _courses_base(data)
    if problem is not None:
        return problem
    return Measure(value=Fraction(len(_distinct_courses(rows))), rows=rows, detail={"year": year})


def shared_course_growth(data):
    year, rows, problem = _courses_base(data)
    if problem is not None:
        return problem
    last = [row for row in data.rows("shared_courses") if row["year"] == year - 1]
    if not last:
        return Measure(
            rows=rows,
            missing=_("The comparison needs last year's (%(year)s) shared courses in the same workbook.")
            % {"year": year - 1},
        )
    now, before = len(_distinct_courses(rows)), len(_distinct_courses(last))
    return Measure(
        value=Fraction(now - before),
        rows=rows + last,
        detail={"year": year, "breakdown": [{"label": year, "value": now}, {"label": year - 1, "value": before}]},
    )


def shared_courses_per_school_semester_min(data):
    year, rows, problem = _courses_base(data)
    if problem is not None:
        return problem
    semesters = sorted({row["semester"] for row in rows})
    counts = defaultdict(int)
    for row in rows:
        for school_pk in row["participant_ids"]:
            counts[(school_pk, row["semester"])] += 1
    breakdown = [
        {"label": f"{school.name} {semester}", "value": counts[(school.pk, semester)]}
        for school in data.schools
        for semester in semesters
    ]
    value = min((item["value"] for item in breakdown), default=0)
    return Measure(value=Fraction(value), rows=rows, detail={"year": year, "breakdown": breakdown})


def high_quality_course_count(data):
    year, rows, problem = _courses_base(data)
    if problem is not None:
        return problem
    chosen = [row for row in rows if row["high_quality"]]
    return Measure(value=Fraction(len(_distinct_courses(chosen))), rows=chosen, detail={"year": year})


def high_quality_course_student_share(data):
    year, rows, problem = _courses_base(data)
    if problem is not None:
        return problem
    chosen = [row for row in rows if row["high_quality"]]
    denominator = sum(row["grade_students"] or 0 for row in chosen)
    if not chosen or denominator == 0:
        return Measure(missing=_("No high-quality shared course is recorded for %(year)s.") % {"year": year})
    numerator = sum(row["students"] for row in chosen)
    return Measure(
        value=Fraction(numerator, denominator),
        rows=chosen,
        detail=_ratio_detail(year, numerator, denominator),
    )


# School statistics --------------------------------------------------------------------------------------------


def _school_stats_ratio(data, numerator_field, denominator_field):
    rows = data.rows("school_stats")
    if "school_stats" not in data.imports:
        return Measure(missing=_missing("school_stats"))
    year = _latest_year(rows)
    chosen = [row for row in rows if row["year"] == year]
    absent = _missing_schools(data, rows, "school_stats", year)
    if absent:
        return Measure(rows=chosen, missing=absent)
    numerator = sum(row[numerator_field] for row in chosen)
    denominator = sum(row[denominator_field] for row in chosen)
    if denominator == 0:
        return Measure(rows=chosen, missing=_("The denominator adds up to 0 in %(year)s.") % {"year": year})
    return Measure(
        value=Fraction(numerator, denominator), rows=chosen, detail=_ratio_detail(year, numerator, denominator)
    )


def shared_resource_student_coverage(data):
    return _school_stats_ratio(data, "students_covered", "students")


def teacher_participation_rate(data):
    return _school_stats_ratio(data, "teachers_in_cluster_work", "teachers")


# Academic results ---------------------------------------------------------------------------------------------


def _results_base(data):
    rows = data.rows("academic_results")
    if "academic_results" not in data.imports:
        return None, [], Measure(missing=_missing("academic_results"))
    year = _latest_year(rows)
    return year, [row for row in rows if row["year"] == year], None


def _by_stage(rows):
    stages = defaultdict(list)
    for row in rows:
        stages[row["stage"]].append(row)
    return dict(sorted(stages.items(), key=lambda item: list(STAGE_LABELS).index(item[0])))


def _weighted(rows, share_field, weight_field="students"):
    total = sum(row[weight_field] for row in rows)
    return sum(row[weight_field] * _percent(row[share_field]) for row in rows) / total


def pass_share_margin(data):
    year, rows, problem = _results_base(data)
    if problem is not None:
        return problem
    breakdown, margins = [], []
    for stage, stage_rows in _by_stage(rows).items():
        cluster, district = _weighted(stage_rows, "pass_share"), _weighted(stage_rows, "district_pass_share")
        margins.append(cluster - district)
        breakdown.append(
            {
                "label": STAGE_LABELS[stage],
                "value": _("%(cluster)s against a district average of %(district)s")
                % {"cluster": format_percent(cluster), "district": format_percent(district)},
            }
        )
    return Measure(value=min(margins), rows=rows, detail={"year": year, "breakdown": breakdown})


def inter_school_difference_rate_max(data):
    year, rows, problem = _results_base(data)
    if problem is not None:
        return problem
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


def junior_pass_rate(data):
    if not data.teaching(JUNIOR):
        return Measure(nothing_to_measure=_("The cluster has no junior school."))
    year, rows, problem = _results_base(data)
    if problem is not None:
        return problem
    junior = [row for row in rows if row["stage"] == JUNIOR]
    if not junior:
        return Measure(missing=_("No junior-stage results for %(year)s.") % {"year": year})
    tested = sum(row["students"] for row in junior)
    passed = sum(row["students"] * _percent(row["pass_share"]) for row in junior)
    return Measure(value=passed / tested, rows=junior, detail=_ratio_detail(year, passed, tested))


def weak_school_improvement_min(data):
    weak = data.weak_ids
    if not weak:
        return Measure(nothing_to_measure=_("The cluster has no relatively weak school."))
    year, rows, problem = _results_base(data)
    if problem is not None:
        return problem
    last = {(row["school_pk"], row["stage"]): row for row in data.rows("academic_results") if row["year"] == year - 1}
    gains, breakdown, behind = [], [], []
    for row in rows:
        before = last.get((row["school_pk"], row["stage"]))
        if row["school_pk"] not in weak or before is None:
            continue
        gain = _percent(row["pass_share"]) - _percent(before["pass_share"])
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
        return None, [], Measure(nothing_to_measure=_("The cluster has no junior school."))
    rows = data.rows("enrolment")
    if "enrolment" not in data.imports:
        return None, [], Measure(missing=_missing("enrolment"))
    year = _latest_year(rows)
    chosen = [row for row in rows if row["year"] == year]
    absent = _missing_schools(data, rows, "enrolment", year, data.teaching(JUNIOR))
    return year, chosen, (Measure(rows=chosen, missing=absent) if absent else None)


def quota_plan_completion(data):
    year, rows, problem = _enrolment_base(data)
    if problem is not None:
        return problem
    plan, filled = sum(row["quota_plan"] for row in rows), sum(row["quota_filled"] for row in rows)
    if plan == 0:
        return Measure(rows=rows, missing=_("The quota plan adds up to 0 in %(year)s.") % {"year": year})
    return Measure(value=Fraction(filled, plan), rows=rows, detail=_ratio_detail(year, filled, plan))


def quality_senior_entry_margin(data):
    year, rows, problem = _enrolment_base(data)
    if problem is not None:
        return problem
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


def satisfaction_min(data):
    rows = data.rows("satisfaction")
    if "satisfaction" not in data.imports:
        return Measure(missing=_missing("satisfaction"))
    year = _latest_year(rows)
    groups = {row["group"]: row for row in rows if row["year"] == year}
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


def _full_years(start, end):
    years = end.year - start.year
    return years - 1 if (end.month, end.day) < (start.month, start.day) else years


def district_model_years_held(data):
    cluster = data.cluster
    changes = list(TierChange.objects.filter(cluster=cluster).order_by("effective", "id"))
    rows = [
        {
            "dataset": "",
            "source": _("Tier history"),
            "from_tier": change.get_from_tier_display(),
            "to_tier": change.get_to_tier_display(),
            "effective": change.effective,
        }
        for change in changes
    ]
    on = timezone.localtime(data.application.created).date()
    if cluster.current_tier != Tier.DISTRICT_MODEL:
        return Measure(value=Fraction(0), rows=rows, detail={"since": None, "on": on})
    reached = [change.effective for change in changes if change.to_tier == Tier.DISTRICT_MODEL]
    since = cluster.tier_since or (reached[-1] if reached else None)
    if since is None:
        return Measure(rows=rows, missing=_("The date the cluster became a district model is not recorded."))
    return Measure(value=Fraction(max(_full_years(since, on), 0)), rows=rows, detail={"since": since, "on": on})


COMPUTATIONS = {
    function.__name__: function
    for function in (
        rotation_same_stage_rate,
        rotation_cross_stage_rate,
        rotation_core_member_rate,
        backbone_share_of_rotated,
        kindergarten_rotation_rate,
        kindergarten_backbone_share,
        rotation_term_min_years,
        weak_school_inflow_min,
        shared_course_count,
        shared_course_growth,
        shared_courses_per_school_semester_min,
        high_quality_course_count,
        high_quality_course_student_share,
        shared_resource_student_coverage,
        teacher_participation_rate,
        pass_share_margin,
        inter_school_difference_rate_max,
        junior_pass_rate,
        quota_plan_completion,
        quality_senior_entry_margin,
        satisfaction_min,
        weak_school_improvement_min,
        district_model_years_held,
    )
}


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
        rows=measure.rows,
        detail=detail,
        missing_data=missing,
        note=measure.note,
    )


def compute_indicators(application):
    """{indicator id: ComputedResult} for every computed indicator of the application's pinned standard."""
    data = ApplicationData(application)
    indicators = application.standard.indicators().filter(method=Indicator.Method.COMPUTED)
    results = {}
    for indicator in indicators:
        computation = COMPUTATIONS.get(indicator.metric)
        if computation is None:
            measure = Measure(missing=_("Unknown metric “%(metric)s”.") % {"metric": indicator.metric})
        else:
            measure = computation(data)
        results[indicator.pk] = _result(indicator, measure)
    return results


def data_version(application):
    """A fingerprint of everything the computed values read: the current imports and the cluster's tier and schools.

    Two calls give the same string exactly when `compute_indicators` would give the same figures.
    """
    imports = DatasetImport.objects.filter(application=application).current().order_by("dataset", "id")
    parts = [f"{item.dataset}:{item.pk}:{item.fingerprint}" for item in imports]
    cluster = application.cluster
    parts.append(f"tier:{cluster.current_tier}:{cluster.tier_since}")
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
