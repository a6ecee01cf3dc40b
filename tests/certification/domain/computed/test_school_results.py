"""Computed metrics on school statistics, academic results, enrolment, satisfaction and tier history against
hand-worked examples of DOMAIN.md's table: at, just below and just above each threshold; and the data version.

Thresholds are those of seeds 000 (紧密型) and 002 (区级示范性). Rows are loaded as a finished import so that the
arithmetic is what is tested; tests/certification/datasets/test_datasets.py covers getting them there from Excel.
"""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.utils import timezone

from certification.domain.computed import compute_indicators, data_version
from certification.models import ClusterMembership, SatisfactionSurvey, School, Tier, TierChange
from tests.certification.domain.computed.clusters import course, make_application, make_cluster, result_of
from tests.factories import SchoolFactory
from tests.factories.datasets import load_rows, school

pytestmark = pytest.mark.django_db


# School statistics: the two 100% rules of seed 000 ----------------------------------------------------------------


def stats(cluster, name, students=500, teachers=40, working=40, covered=500, year=2025):
    return {
        "school": school(cluster, name),
        "year": year,
        "students": students,
        "teachers": teachers,
        "teachers_in_cluster_work": working,
        "students_covered": covered,
    }


@pytest.mark.parametrize(("covered", "passed", "display"), [(500, True, "100%"), (499, False, "99.93%")])
def test_shared_resource_student_coverage_must_reach_every_student(covered, passed, display):
    cluster = make_cluster()
    application = make_application(cluster, ("shared_resource_student_coverage", "gte", "1"))
    load_rows(
        application,
        "school_stats",
        [stats(cluster, "甲校"), stats(cluster, "乙校", covered=covered), stats(cluster, "丙校")],
    )

    result = result_of(application)

    assert (result.value, result.passed, result.display) == (Fraction(1000 + covered, 1500), passed, display)


@pytest.mark.parametrize(("working", "passed"), [(40, True), (39, False)])
def test_teacher_participation_rate_must_reach_every_teacher(working, passed):
    cluster = make_cluster()
    application = make_application(cluster, ("teacher_participation_rate", "gte", "1"))
    load_rows(
        application,
        "school_stats",
        [stats(cluster, "甲校", working=working), stats(cluster, "乙校"), stats(cluster, "丙校")],
    )

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(80 + working, 120), passed)


def test_school_stats_missing_a_school_is_missing_data_not_a_pass():
    cluster = make_cluster()
    application = make_application(cluster, ("shared_resource_student_coverage", "gte", "1"))
    load_rows(application, "school_stats", [stats(cluster, "甲校"), stats(cluster, "乙校")])

    result = result_of(application)

    assert (result.value, result.passed) == (None, None)
    assert result.missing_data == "“学校基本数据”缺少以下学校 2025 学年的数据：丙校。"


# Academic results (seed 002 第12条) --------------------------------------------------------------------------------


def academic(cluster, name, stage, mean, *, passed=98, district="97", students=100, enrolled=None, year=2025):
    return {
        "school": school(cluster, name),
        "stage": stage,
        "year": year,
        "enrolled": students if enrolled is None else enrolled,
        "students": students,
        "mean_score": Decimal(mean),
        "passed": passed,
        "district_pass_share": Decimal(district),
    }


@pytest.mark.parametrize(("passed_a", "passed"), [(194, True), (193, False), (195, True)])
def test_pass_share_margin_against_the_district_average(passed_a, passed):
    cluster = make_cluster()
    application = make_application(cluster, ("pass_share_margin", "gte", "0"))
    rows = [
        academic(cluster, "甲校", "primary", "90", passed=passed_a, students=200),
        academic(cluster, "乙校", "primary", "90", passed=97, students=100),
    ]
    load_rows(application, "academic_results", rows)

    result = result_of(application)

    # From the counts (issue 9, rule 8): (passed_a + 97) / 300 − 97%; 194 is exactly the district average.
    assert (result.value, result.passed) == (Fraction(passed_a + 97, 300) - Fraction(97, 100), passed)


@pytest.mark.parametrize(
    ("low", "high", "passed", "display"),
    [("85", "115", False, "0.15"), ("85.01", "114.99", True, "0.1499"), ("84.99", "115.01", False, "0.1501")],
)
def test_inter_school_difference_rate_exactly_point_fifteen_fails(low, high, passed, display):
    cluster = make_cluster()
    application = make_application(cluster, ("inter_school_difference_rate_max", "lt", "0.15"))
    # Two schools at mean ∓ d: the population standard deviation is d, so CV = d / 100 exactly.
    rows = [academic(cluster, "甲校", "primary", low), academic(cluster, "乙校", "primary", high)]
    rows.append(academic(cluster, "甲校", "junior", "80"))
    load_rows(application, "academic_results", rows)

    result = result_of(application)

    assert (result.passed, result.display, result.threshold_display) == (passed, display, "< 0.15")
    assert result.detail["breakdown"][0]["label"] == "小学"
    assert result.detail["breakdown"][1] == {"label": "初中", "value": "未计算：少于两所学校"}


def test_inter_school_difference_rate_takes_the_largest_stage_and_compares_exactly():
    cluster = make_cluster()
    application = make_application(cluster, ("inter_school_difference_rate_max", "lt", "0.15"))
    # Primary 90/100/110: variance 200/3, CV = √(200/3)/100 ≈ 0.081650 (irrational); junior CV 0.05.
    rows = [
        academic(cluster, "甲校", "primary", "90"),
        academic(cluster, "乙校", "primary", "100"),
        academic(cluster, "丙校", "primary", "110"),
        academic(cluster, "甲校", "junior", "95"),
        academic(cluster, "乙校", "primary", "105", year=2024),
    ]
    rows.append({**academic(cluster, "丙校", "primary", "105"), "stage": "junior"})
    load_rows(application, "academic_results", rows)

    result = result_of(application)

    assert (result.value, result.passed, result.display) == (Fraction("0.081649658093"), True, "0.0816")


@pytest.mark.parametrize(("junior_passed", "passed"), [(990, True), (989, False), (991, True)])
def test_junior_pass_rate_at_and_around_ninety_nine_percent(junior_passed, passed):
    cluster = make_cluster()
    application = make_application(cluster, ("junior_pass_rate", "gte", "0.99", True))
    rows = [
        academic(cluster, "甲校", "junior", "80", passed=junior_passed, students=1000),
        academic(cluster, "乙校", "primary", "80", passed=50),
    ]
    load_rows(application, "academic_results", rows)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(junior_passed, 1000), passed)


def test_junior_pass_rate_is_not_applicable_without_a_junior_school():
    cluster = make_cluster(junior=False)
    application = make_application(cluster, ("junior_pass_rate", "gte", "0.99", True))
    load_rows(application, "academic_results", [academic(cluster, "甲校", "primary", "80")])

    result = result_of(application)

    assert (result.not_applicable, result.passed, result.display) == (True, None, "不适用：本学区/集团没有初中学校。")


@pytest.mark.parametrize(("this_year", "passed"), [(9500, False), (9501, True), (9499, False)])
def test_weak_school_improvement_min_must_be_above_zero(this_year, passed):
    cluster = make_cluster(weak=True)
    application = make_application(cluster, ("weak_school_improvement_min", "gt", "0", True))
    rows = [
        academic(cluster, "丙校", "primary", "80", passed=95, year=2024),
        academic(cluster, "丙校", "primary", "81", passed=this_year, students=10000),
        academic(cluster, "乙校", "primary", "81", passed=50),
    ]
    load_rows(application, "academic_results", rows)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(this_year, 10000) - Fraction(95, 100), passed)


def test_weak_school_improvement_is_not_applicable_without_a_weak_school():
    cluster = make_cluster(weak=False)
    application = make_application(cluster, ("weak_school_improvement_min", "gt", "0", True))

    result = result_of(application)

    assert (result.not_applicable, result.passed) == (True, None)


# Enrolment and satisfaction (seed 002 第12条) ----------------------------------------------------------------------


def enrolment(cluster, name, plan, filled, rate="60", district="60", graduates=100):
    return {
        "school": school(cluster, name),
        "year": 2025,
        "graduates": graduates,
        "quota_plan": plan,
        "quota_filled": filled,
        "quality_entry_rate": Decimal(rate),
        "district_quality_entry_rate": Decimal(district),
    }


@pytest.mark.parametrize(("filled", "passed", "display"), [(40, True, "100%"), (39, False, "97.5%")])
def test_quota_plan_completion_must_be_complete(filled, passed, display):
    cluster = make_cluster()
    application = make_application(cluster, ("quota_plan_completion", "gte", "1", True))
    load_rows(application, "enrolment", [enrolment(cluster, "甲校", 40, filled)])

    result = result_of(application)

    assert (result.value, result.passed, result.display) == (Fraction(filled, 40), passed, display)


def test_quota_plan_completion_is_not_applicable_without_a_junior_school():
    application = make_application(make_cluster(junior=False), ("quota_plan_completion", "gte", "1", True))

    result = result_of(application)

    assert (result.not_applicable, result.passed) == (True, None)


@pytest.mark.parametrize(("rate", "passed"), [("60", True), ("59.99", False), ("60.01", True)])
def test_quality_senior_entry_margin_against_the_district_average(rate, passed):
    cluster = make_cluster()
    application = make_application(cluster, ("quality_senior_entry_margin", "gte", "0", True))
    load_rows(application, "enrolment", [enrolment(cluster, "甲校", 40, 40, rate=rate)])

    result = result_of(application)

    assert (result.value, result.passed) == ((Fraction(Decimal(rate)) - 60) / 100, passed)


@pytest.mark.parametrize(("parents", "passed", "display"), [(90, True, "90%"), (89, False, "89%"), (91, True, "91%")])
def test_satisfaction_min_takes_the_lower_of_parents_and_teachers(parents, passed, display):
    cluster = make_cluster()
    application = make_application(cluster, ("satisfaction_min", "gte", "0.90"))
    groups = SatisfactionSurvey.Group
    load_rows(
        application,
        "satisfaction",
        [
            {"group": groups.PARENTS, "year": 2025, "respondents": 100, "satisfied": parents},
            {"group": groups.TEACHERS, "year": 2025, "respondents": 100, "satisfied": 95},
            {"group": groups.STUDENTS, "year": 2025, "respondents": 100, "satisfied": 10},
        ],
    )

    result = result_of(application)

    assert (result.value, result.passed, result.display) == (Fraction(parents, 100), passed, display)


def test_satisfaction_without_teachers_survey_is_missing_data():
    cluster = make_cluster()
    application = make_application(cluster, ("satisfaction_min", "gte", "0.90"))
    load_rows(application, "satisfaction", [{"group": "parents", "year": 2025, "respondents": 100, "satisfied": 99}])

    result = result_of(application)

    assert (result.value, result.passed) == (None, None)
    assert result.missing_data == "缺少 2025 学年教师的满意度调查。"


# City-model expectation: district-model held ≥ 1 year --------------------------------------------------------------


@pytest.mark.parametrize(
    ("years_back", "days_later", "value", "passed"), [(1, 0, 1, True), (1, 1, 0, False), (2, 0, 2, True)]
)
def test_district_model_years_held_counts_full_years(years_back, days_later, value, passed):
    cluster = make_cluster()
    application = make_application(cluster, ("district_model_years_held", "gte", "1"))
    opened = timezone.localtime(application.created).date()
    # The tier is derived from the tier history: 区级 recorded at set-up on the day under test.
    TierChange.objects.create(
        cluster=cluster,
        from_tier=Tier.NONE,
        to_tier=Tier.DISTRICT_MODEL,
        reason=TierChange.Reason.INITIAL,
        effective=opened.replace(year=opened.year - years_back) + datetime.timedelta(days=days_later),
    )
    application.refresh_from_db()

    result = result_of(application)

    assert (result.value, result.passed, result.threshold_display) == (Fraction(value), passed, "≥ 1 年")


def test_district_model_years_held_is_zero_below_the_district_model_tier():
    cluster = make_cluster()
    application = make_application(cluster, ("district_model_years_held", "gte", "1"))

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(0), False)


# Data version --------------------------------------------------------------------------------------------------------


def test_data_version_changes_when_an_import_replaces_the_data_and_only_then():
    cluster = make_cluster()
    application = make_application(cluster, ("satisfaction_min", "gte", "0.90"))
    before = data_version(application)
    load_rows(application, "satisfaction", [{"group": "parents", "year": 2025, "respondents": 10, "satisfied": 9}])

    after = data_version(application)

    assert before != after
    assert data_version(application) == after


def test_community_schools_are_not_asked_for_courses_or_school_data():
    cluster = make_cluster()
    community = SchoolFactory(name="天平社区学校", district=cluster.district, kind=School.Kind.COMMUNITY)
    ClusterMembership.objects.create(cluster=cluster, school=community)
    application = make_application(
        cluster,
        ("shared_courses_per_school_semester_min", "gte", "1"),
        ("shared_resource_student_coverage", "gte", "1"),
    )
    load_rows(application, "shared_courses", [course(cluster, "课程一", "2025-1"), course(cluster, "课程一", "2025-2")])
    load_rows(application, "school_stats", [stats(cluster, "甲校"), stats(cluster, "乙校"), stats(cluster, "丙校")])

    results = list(compute_indicators(application).values())

    assert [(r.value, r.passed, r.missing_data) for r in results] == [(Fraction(1), True, ""), (Fraction(1), True, "")]
