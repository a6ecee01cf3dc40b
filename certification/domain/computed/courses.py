"""Shared courses (共享课程, seeds 000 and 002) and the school statistics behind the two 百分之一百 (seed 000)."""

from collections import defaultdict
from fractions import Fraction

from django.utils.translation import gettext as _

from .base import (
    Measure,
    _missing_schools,
    _ratio_detail,
    computes,
    latest_year,
)


def _courses_base(data):
    return latest_year(data, "shared_courses")


def _distinct_courses(rows):
    return {(row["course"], row["provider_pk"]) for row in rows}


SEMESTERS = (1, 2)


@computes
def shared_course_count(data):
    year, rows = _courses_base(data)
    return Measure(value=Fraction(len(_distinct_courses(rows))), rows=rows, detail={"year": year})


@computes
def shared_course_growth(data):
    year, rows = _courses_base(data)
    last = data.by_year("shared_courses").get(year - 1, [])
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


@computes
def shared_courses_per_school_semester_min(data):
    year, rows = _courses_base(data)
    # "每学期……每校至少有1门": both semesters of the school year, not only those present in the data.
    semesters = [f"{year}-{number}" for number in SEMESTERS]
    present = {row["semester"] for row in rows}
    absent = [number for number, semester in zip(SEMESTERS, semesters, strict=True) if semester not in present]
    if absent:
        return Measure(
            rows=rows,
            missing=_("No data for semester %(semesters)s of %(year)s.")
            % {"semesters": "、".join(str(number) for number in absent), "year": year},
        )
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


@computes
def high_quality_course_count(data):
    year, rows = _courses_base(data)
    chosen = [row for row in rows if row["high_quality"]]
    return Measure(value=Fraction(len(_distinct_courses(chosen))), rows=chosen, detail={"year": year})


@computes
def high_quality_course_student_share(data):
    year, rows = _courses_base(data)
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
    year, chosen = latest_year(data, "school_stats")
    rows = data.rows("school_stats")
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


@computes
def shared_resource_student_coverage(data):
    return _school_stats_ratio(data, "students_covered", "students")


@computes
def teacher_participation_rate(data):
    return _school_stats_ratio(data, "teachers_in_cluster_work", "teachers")
