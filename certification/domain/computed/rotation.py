"""Teacher rotation (交流轮岗, seeds 000 and 002): rates over the eligible teachers, backbone shares, terms, teams."""

from fractions import Fraction

from django.utils.translation import gettext as _

from .base import (
    KINDERGARTEN,
    Measure,
    _latest_year,
    _missing,
    _missing_schools,
    _ratio_detail,
    computes,
)


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


@computes
def rotation_same_stage_rate(data):
    return _rotation_rate(data, lambda row: row["from_stage"] == row["to_stage"], label=_("same-stage rotations"))


@computes
def rotation_cross_stage_rate(data):
    return _rotation_rate(data, lambda row: row["from_stage"] != row["to_stage"], label=_("cross-stage rotations"))


@computes
def rotation_core_member_rate(data):
    leads = data.lead_ids

    def between_core_and_member(row):
        return (row["from_school_pk"] in leads) != (row["to_school_pk"] in leads)

    return _rotation_rate(data, between_core_and_member, label=_("rotations between a core and a member school"))


def _no_kindergarten(data):
    if not data.teaching(KINDERGARTEN):
        return _("The cluster has no kindergarten.")
    return ""


@computes
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


@computes
def backbone_share_of_rotated(data):
    return _backbone_share(data, lambda row: True, _("rotations"))


@computes
def kindergarten_backbone_share(data):
    reason = _no_kindergarten(data)
    if reason:
        return Measure(nothing_to_measure=reason)
    return _backbone_share(data, lambda row: row["from_stage"] == KINDERGARTEN, _("kindergarten rotations"))


@computes
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


@computes
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
