"""Shared courses (共享课程, seeds 000 and 002) and the school statistics behind the two 百分之一百 (seed 000)."""

from collections import Counter
from fractions import Fraction
from itertools import chain

from django.utils.translation import gettext as _

from .base import (
    Measure,
    Records,
    Rows,
    _missing_schools,
    _ratio_detail,
    computes,
    latest_records,
    latest_year,
)

# The courses of a year are thousands of rows (bench/computed.py): the figures read their tuples
# (`ClusterData.records`) and show them through `Rows`, made into dicts only for the rows a page shows.


class _Courses:
    """The year's shared courses (tuples) and where their fields are."""

    def __init__(self, data):
        self.year, self.rows = latest_records(data, "shared_courses")
        self.shape = data.shape("shared_courses")
        self.at = self.shape.at

    def shown(self, *parts):
        return Rows(*(Records(self.shape, rows) for rows in parts or (self.rows,)))

    def distinct(self, rows):
        """How many courses: a course is (name, provider)."""
        course, provider = self.at["course"], self.at["provider_pk"]
        return len({(row[course], row[provider]) for row in rows})

    def high_quality(self):
        chosen = self.at["high_quality"]
        return [row for row in self.rows if row[chosen]]


SEMESTERS = (1, 2)


@computes
def shared_course_count(data):
    courses = _Courses(data)
    return Measure(value=Fraction(courses.distinct(courses.rows)), rows=courses.shown(), detail={"year": courses.year})


@computes
def shared_course_growth(data):
    courses = _Courses(data)
    year, rows = courses.year, courses.rows
    last = data.records_by_year("shared_courses").get(year - 1, [])
    if not last:
        return Measure(
            rows=courses.shown(),
            missing=_("The comparison needs last year's (%(year)s) shared courses in the same workbook.")
            % {"year": year - 1},
        )
    now, before = courses.distinct(rows), courses.distinct(last)
    return Measure(
        value=Fraction(now - before),
        rows=courses.shown(rows, last),
        detail={"year": year, "breakdown": [{"label": year, "value": now}, {"label": year - 1, "value": before}]},
    )


@computes
def shared_courses_per_school_semester_min(data):
    courses = _Courses(data)
    year, rows = courses.year, courses.rows
    semester_at, participants_at = courses.at["semester"], courses.at["participant_ids"]
    # "每学期……每校至少有1门": both semesters of the school year, not only those present in the data.
    semesters = [f"{year}-{number}" for number in SEMESTERS]
    present = {row[semester_at] for row in rows}
    absent = [number for number, semester in zip(SEMESTERS, semesters, strict=True) if semester not in present]
    if absent:
        return Measure(
            rows=courses.shown(),
            missing=_("No data for semester %(semesters)s of %(year)s.")
            % {"semesters": "、".join(str(number) for number in absent), "year": year},
        )
    # {semester: {school: rows it provides or takes part in}}
    counts = {
        semester: Counter(chain.from_iterable(row[participants_at] for row in rows if row[semester_at] == semester))
        for semester in semesters
    }
    breakdown = [
        {"label": f"{school.name} {semester}", "value": counts[semester][school.pk]}
        for school in data.schools
        for semester in semesters
    ]
    value = min((item["value"] for item in breakdown), default=0)
    return Measure(value=Fraction(value), rows=courses.shown(), detail={"year": year, "breakdown": breakdown})


@computes
def high_quality_course_count(data):
    courses = _Courses(data)
    chosen = courses.high_quality()
    return Measure(value=Fraction(courses.distinct(chosen)), rows=courses.shown(chosen), detail={"year": courses.year})


@computes
def high_quality_course_student_share(data):
    courses = _Courses(data)
    year, chosen = courses.year, courses.high_quality()
    students_at, grade_students_at = courses.at["students"], courses.at["grade_students"]
    denominator = sum(row[grade_students_at] or 0 for row in chosen)
    if not chosen or denominator == 0:
        return Measure(missing=_("No high-quality shared course is recorded for %(year)s.") % {"year": year})
    numerator = sum(row[students_at] for row in chosen)
    return Measure(
        value=Fraction(numerator, denominator),
        rows=courses.shown(chosen),
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
