"""Teacher rotation (交流轮岗, seeds 000 and 002): rates over the eligible teachers, backbone shares, terms, teams."""

from collections import Counter
from fractions import Fraction
from itertools import islice
from operator import itemgetter

from django.utils.translation import gettext as _

from certification.datasets import DATASETS
from certification.models import ClusterMembership

from .base import (
    KINDERGARTEN,
    SCHOOL_STAGES,
    Measure,
    Records,
    Rows,
    Unmeasured,
    _missing_schools,
    _ratio_detail,
    computes,
    imported,
    require,
    source_label,
)


class Teachers(Records):
    """One row per teacher (rule: people, not rows): a teacher's rotations merged (`_merge`), teachers in the order
    of their first rotation. A lazy part of `Rows`: the rotations stay tuples until a row is shown, and counting
    the teachers (`len`) merges nothing."""

    def __init__(self, shape, records):
        super().__init__(shape, records)
        self._count = None

    def __len__(self):
        if self._count is None:
            teacher = self.shape.at["teacher"]
            self._count = len({record[teacher] for record in self.records})
        return self._count

    def __iter__(self):
        teacher, row = self.shape.at["teacher"], self.shape.row
        teachers = {}
        for record in self.records:
            own = teachers.get(record[teacher])
            if own is None:
                teachers[record[teacher]] = [record]
            else:
                own.append(record)
        return (_merge([row(record) for record in own]) for own in teachers.values())

    def head(self, count):
        return list(islice(self, count))


class _Kind:
    """The rotations of one kind that start in the year (tuples), and the same one row per teacher (`Teachers`).

    Worked out once per `data`: a rate, a backbone share and the shortest term read the same rotations.
    """

    def __init__(self, shape, rows):
        self.rows = rows
        self.teachers = Teachers(shape, rows)


def _kinds(data, year, rotations):
    """{kind: _Kind} of the year's rotations, sorted in one pass over the roster: same-stage or cross-stage
    (from stage = to stage or not), between a core and a member school (one side a lead or core school), and out
    of the kindergarten stage."""
    key = ("rotation_kinds", year)
    kinds = data.memo.get(key)
    if kinds is None:
        shape = data.shape("rotation")
        from_stage_at, to_stage_at = shape.at["from_stage"], shape.at["to_stage"]
        from_at, to_at = shape.at["from_school_pk"], shape.at["to_school_pk"]
        leads = data.lead_ids
        same, cross, core_member, kindergarten = [], [], [], []
        for row in rotations:
            from_stage = row[from_stage_at]
            if from_stage == row[to_stage_at]:
                same.append(row)
            else:
                cross.append(row)
            if (row[from_at] in leads) != (row[to_at] in leads):
                core_member.append(row)
            if from_stage == KINDERGARTEN:
                kindergarten.append(row)
        kinds = data.memo[key] = {
            SAME_STAGE: _Kind(shape, same),
            CROSS_STAGE: _Kind(shape, cross),
            CORE_MEMBER: _Kind(shape, core_member),
            FROM_KINDERGARTEN: _Kind(shape, kindergarten),
        }
    return kinds


def _merge(own):
    """A teacher's rotations (dicts, in row order) as one row: a cell that differs between them holds the tuple of
    its values, in row order, and "row" the rows' numbers."""
    if len(own) == 1:  # most teachers rotate once: nothing to compare
        return {**own[0], "row": str(own[0]["row"]), "rotations": 1}
    first, others = own[0], own[1:]
    row = dict(first)
    for key, value in first.items():
        for other in others:
            if other[key] != value:
                row[key] = tuple(other[key] for other in own)
                break
    row["row"] = "、".join(str(other["row"]) for other in own)
    row["rotations"] = len(own)
    return row


SAME_STAGE, CROSS_STAGE, CORE_MEMBER, FROM_KINDERGARTEN = "same_stage", "cross_stage", "core_member", "kindergarten"


def _year_missing(dataset, year):
    return _("No “%(dataset)s” data for the %(year)s school year.") % {"dataset": DATASETS[dataset].title, "year": year}


def _rotation_base(data, *, eligible_schools=None, need_eligible=True):
    """(year, rotations of the year, eligible rows of the year); raises Unmeasured when a figure needs more data.

    The year is the latest one in the roster and, for a rate, in the eligible teachers too: when the two are for
    different school years the figure names the year that is missing rather than dividing by the wrong year.
    """
    require(data, "rotation")
    rotations = data.records_by_year("rotation")
    if need_eligible:
        eligible = imported(data, "eligible_teachers")
        eligible_years = data.by_year("eligible_teachers")
        year = max(max(rotations, default=0), max(eligible_years, default=0))
    else:
        eligible, eligible_years = [], {}
        year = max(rotations, default=None)
    year_rotations = rotations.get(year, [])
    year_eligible = eligible_years.get(year, [])
    if eligible_schools is not None:
        ids = {school.pk for school in eligible_schools}
        year_eligible = [row for row in year_eligible if row["school_pk"] in ids]
    if need_eligible:
        for dataset, rows in (("eligible_teachers", year_eligible), ("rotation", year_rotations)):
            if not rows:
                raise Unmeasured(Measure(missing=_year_missing(dataset, year)))
        absent = _missing_schools(data, eligible, "eligible_teachers", year, eligible_schools)
        if absent:
            raise Unmeasured(Measure(missing=absent, rows=year_eligible))
    return year, year_rotations, year_eligible


def _over_eligible(data, counted, eligible):
    """A message naming each school whose rotated teachers outnumber its eligible teachers, or "".

    A numerator can never exceed its denominator: such data are wrong, and a rate above 100% is never shown.
    """
    at = data.shape("rotation").at
    school, teacher = at["from_school_pk"], at["teacher"]
    limits = {row["school_pk"]: row["teachers"] for row in eligible}
    if all(rows <= limits.get(pk, 0) for pk, rows in Counter(map(itemgetter(school), counted)).items()):
        return ""  # no school has more rotations than eligible teachers, let alone more rotated teachers
    # Each (school, teacher) once, schools in the order of their first rotation.
    rotated = Counter(pk for pk, _teacher in dict.fromkeys((row[school], row[teacher]) for row in counted))
    over = [
        _("%(school)s: %(rotated)s rotated, %(eligible)s eligible")
        % {"school": data.name(pk), "rotated": teachers, "eligible": limits.get(pk, 0)}
        for pk, teachers in rotated.items()
        if teachers > limits.get(pk, 0)
    ]
    if not over:
        return ""
    return _("More teachers rotated than were eligible (%(schools)s); correct the data.") % {"schools": "；".join(over)}


def _rotation_rate(data, kind, *, eligible_schools=None, label):
    year, rotations, eligible = _rotation_base(data, eligible_schools=eligible_schools)
    chosen = _kinds(data, year, rotations)[kind]
    denominator = sum(row["teachers"] for row in eligible)
    if denominator == 0:
        return Measure(rows=eligible, missing=_("The eligible teachers add up to 0 in %(year)s.") % {"year": year})
    too_many = _over_eligible(data, chosen.rows, eligible)
    if too_many:
        return Measure(rows=Rows(chosen.teachers, eligible), missing=too_many)
    teachers = len(chosen.teachers)
    return Measure(
        value=Fraction(teachers, denominator),
        rows=Rows(chosen.teachers, eligible),
        detail=_ratio_detail(year, teachers, denominator, counted=label),
    )


def _spans_stages(data):
    """Cross-stage rotation needs a cluster of two 学段 or more: N/A (raises Unmeasured) when every school has one."""
    stages = {stage for school in data.schools for stage in SCHOOL_STAGES if school.teaches(stage)}
    if len(stages) < 2:
        reason = _(
            "Every school of the cluster teaches one stage only, so there is no cross-stage rotation to measure."
        )
        raise Unmeasured(Measure(nothing_to_measure=reason))


def _has_kindergarten(data):
    """Kindergarten rotation needs a kindergarten: N/A (raises Unmeasured) without one."""
    if not data.teaching(KINDERGARTEN):
        raise Unmeasured(Measure(nothing_to_measure=_("The cluster has no kindergarten.")))


@computes
def rotation_same_stage_rate(data):
    return _rotation_rate(data, SAME_STAGE, label=_("same-stage rotations"))


@computes
def rotation_cross_stage_rate(data):
    _spans_stages(data)
    return _rotation_rate(data, CROSS_STAGE, label=_("cross-stage rotations"))


@computes
def rotation_core_member_rate(data):
    measure = _rotation_rate(data, CORE_MEMBER, label=_("rotations between a core and a member school"))
    if not data.lead_ids:
        measure.note = no_core_school_note()
    return measure


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


@computes
def kindergarten_rotation_rate(data):
    _has_kindergarten(data)
    return _rotation_rate(
        data, FROM_KINDERGARTEN, eligible_schools=data.teaching(KINDERGARTEN), label=_("kindergarten rotations")
    )


def _backbone_share(data, kind, label):
    """Backbone teachers ÷ rotated teachers, over the rotations of `kind` (each teacher counted once)."""
    year, rotations, _eligible = _rotation_base(data, need_eligible=False)
    chosen = _kinds(data, year, rotations)[kind]
    if not chosen.rows:
        return Measure(missing=_("No %(what)s start in %(year)s.") % {"what": label, "year": year})
    at = data.shape("rotation").at
    teacher, backbone_at = at["teacher"], at["backbone"]
    teachers = chosen.teachers
    backbone = {row[teacher] for row in chosen.rows if row[backbone_at]}
    return Measure(
        value=Fraction(len(backbone), len(teachers)),
        rows=Rows(teachers),
        detail=_ratio_detail(year, len(backbone), len(teachers), counted=_("backbone teachers")),
    )


@computes
def backbone_share_same_stage(data):
    return _backbone_share(data, SAME_STAGE, _("same-stage rotations"))


@computes
def backbone_share_cross_stage(data):
    _spans_stages(data)
    return _backbone_share(data, CROSS_STAGE, _("cross-stage rotations"))


@computes
def backbone_share_core_member(data):
    return _backbone_share(data, CORE_MEMBER, _("rotations between a core and a member school"))


@computes
def kindergarten_backbone_share(data):
    _has_kindergarten(data)
    return _backbone_share(data, FROM_KINDERGARTEN, _("kindergarten rotations"))


@computes
def rotation_term_min_years(data):
    """The shortest term among the rotations between core and member schools (seed 002 sets the term of that flow)."""
    year, rotations, _eligible = _rotation_base(data, need_eligible=False)
    rotations = _kinds(data, year, rotations)[CORE_MEMBER].rows
    if not rotations:
        label = _("rotations between a core and a member school")
        return Measure(missing=_("No %(what)s start in %(year)s.") % {"what": label, "year": year})
    shape = data.shape("rotation")
    term = itemgetter(shape.at["term_years"])
    shortest = min(rotations, key=term)
    return Measure(
        value=Fraction(term(shortest)),
        rows=Rows(Records(shape, sorted(rotations, key=term))),
        detail={"year": year, "rotations": len(rotations), "shortest": source_label(shape.row(shortest))},
    )


@computes
def weak_school_inflow_min(data):
    weak = [school for school in data.members if school.is_relatively_weak]
    if not weak:
        return Measure(nothing_to_measure=_("The cluster has no relatively weak school."))
    year, rotations, _eligible = _rotation_base(data, need_eligible=False)
    shape = data.shape("rotation")
    to_at, teacher = shape.at["to_school_pk"], shape.at["teacher"]
    inflow = {school.pk: [] for school in weak}
    for row in rotations:
        into = inflow.get(row[to_at])
        if into is not None:
            into.append(row)
    teams = {pk: len({row[teacher] for row in rows}) for pk, rows in inflow.items()}
    breakdown = [{"label": data.name(school.pk), "value": teams[school.pk]} for school in weak]
    value = min((size for size in teams.values() if size), default=0)
    return Measure(
        value=Fraction(value),
        rows=Rows(Teachers(shape, [row for rows in inflow.values() for row in rows])),
        detail={"year": year, "breakdown": breakdown},
    )
