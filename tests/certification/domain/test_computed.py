"""Each computed metric against hand-worked examples of DOMAIN.md's table: at, just below and just above its threshold.

Thresholds are those of seeds 000 (紧密型) and 002 (区级示范性). Rows are loaded as a finished import so that the
arithmetic is what is tested; tests/certification/datasets/test_datasets.py covers getting them there from Excel.
"""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.utils import timezone, translation

from certification.domain.computed import compute_indicators, data_version
from certification.models import ClusterMembership, SatisfactionSurvey, School, Tier
from tests.factories import SchoolFactory
from tests.factories.datasets import computed_standard, data_application, data_cluster, load_rows, school

pytestmark = pytest.mark.django_db

LEAD = ClusterMembership.Role.LEAD
MEMBER = ClusterMembership.Role.MEMBER


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def _cluster(*, kindergarten=False, weak=False, junior=True):
    schools = [("甲校", ["nine_year"] if junior else ["primary"], LEAD), ("乙校", ["primary"], MEMBER)]
    schools.append(("丙校", ["primary"], MEMBER, weak))
    if kindergarten:
        schools.append(("丁园", ["kindergarten"], MEMBER))
    return data_cluster(*schools)


def result_of(application):
    (result,) = compute_indicators(application).values()
    return result


def _application(cluster, *spec):
    return data_application(cluster, computed_standard(*spec))


def eligible(cluster, counts, year=2025):
    return [{"school": school(cluster, name), "year": year, "teachers": n} for name, n in counts.items()]


def rotations(cluster, n, source, target, *, stages=("primary", "primary"), backbone=0, term="3", start=None):
    start = start or datetime.date(2025, 9, 1)
    return [
        {
            "teacher": f"{source}-{target}-{stages[0]}-{index}",
            "from_school": school(cluster, source),
            "to_school": school(cluster, target),
            "from_stage": stages[0],
            "to_stage": stages[1],
            "backbone": index < backbone,
            "start_date": start,
            "term_years": Decimal(term),
            "year": start.year if start.month >= 8 else start.year - 1,
        }
        for index in range(n)
    ]


# Rotation: seed 000 same-stage 10–20% --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rotated", "passed", "display"),
    [(10, True, "10%"), (9, False, "9%"), (20, True, "20%"), (21, False, "21%"), (11, True, "11%")],
)
def test_rotation_same_stage_rate_against_the_ten_to_twenty_percent_band(rotated, passed, display):
    cluster = _cluster()
    application = _application(cluster, ("rotation_same_stage_rate", "between", "0.10", "0.20"))
    load_rows(application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30, "丙校": 30}))
    load_rows(application, "rotation", rotations(cluster, rotated, "甲校", "乙校"))

    result = result_of(application)

    assert (result.value, result.passed, result.display) == (Fraction(rotated, 100), passed, display)
    assert result.threshold_display == "介于 10%–20%"
    assert (result.detail["numerator"], result.detail["denominator"], result.detail["year"]) == (rotated, 100, 2025)
    assert len(result.rows) == rotated + 3


def test_rotation_same_stage_rate_counts_only_rotations_of_the_eligible_year():
    cluster = _cluster()
    application = _application(cluster, ("rotation_same_stage_rate", "between", "0.10", "0.20"))
    load_rows(application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30, "丙校": 30}))
    # 10 start in school year 2025; 5 started in June 2025, which is school year 2024.
    this_year = rotations(cluster, 10, "甲校", "乙校")
    last_year = rotations(cluster, 5, "乙校", "丙校", start=datetime.date(2025, 6, 1))
    load_rows(application, "rotation", this_year + last_year)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(10, 100), True)


def test_rotation_rate_missing_a_school_of_eligible_teachers_names_it():
    cluster = _cluster()
    application = _application(cluster, ("rotation_same_stage_rate", "between", "0.10", "0.20"))
    load_rows(application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30}))
    load_rows(application, "rotation", rotations(cluster, 10, "甲校", "乙校"))

    result = result_of(application)

    assert (result.value, result.passed) == (None, None)
    assert result.missing_data == "“符合交流条件教师”缺少以下学校 2025 学年的数据：丙校。"


def test_rotation_rate_without_any_import_says_which_data_set_is_missing():
    application = _application(_cluster(), ("rotation_same_stage_rate", "between", "0.10", "0.20"))

    result = result_of(application)

    assert (result.value, result.passed, result.not_applicable) == (None, None, False)
    assert result.missing_data == "尚未导入“交流轮岗名册”数据。"


# Rotation: cross-stage ≥ 5%, core↔member ≥ 10% ------------------------------------------------------------------


@pytest.mark.parametrize(("rotated", "passed"), [(5, True), (4, False), (6, True)])
def test_rotation_cross_stage_rate_at_and_around_five_percent(rotated, passed):
    cluster = _cluster()
    application = _application(cluster, ("rotation_cross_stage_rate", "gte", "0.05"))
    load_rows(application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30, "丙校": 30}))
    same_stage = rotations(cluster, 7, "乙校", "丙校")
    load_rows(
        application, "rotation", same_stage + rotations(cluster, rotated, "甲校", "乙校", stages=("junior", "primary"))
    )

    result = result_of(application)

    assert (result.value, result.passed, result.threshold_display) == (Fraction(rotated, 100), passed, "≥ 5%")


@pytest.mark.parametrize(("rotated", "passed"), [(10, True), (9, False), (11, True)])
def test_rotation_core_member_rate_counts_only_rotations_between_core_and_member(rotated, passed):
    cluster = _cluster()
    application = _application(cluster, ("rotation_core_member_rate", "gte", "0.10"))
    load_rows(application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30, "丙校": 30}))
    between_members = rotations(cluster, 6, "乙校", "丙校")
    core_out = rotations(cluster, rotated - rotated // 2, "甲校", "乙校")
    core_in = rotations(cluster, rotated // 2, "丙校", "甲校")
    load_rows(application, "rotation", between_members + core_out + core_in)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(rotated, 100), passed)


# Backbone shares: ≥ 20% (seed 000/002), kindergarten ≥ 30% ------------------------------------------------------


@pytest.mark.parametrize(("backbone", "passed"), [(2, True), (1, False), (3, True)])
def test_backbone_share_same_stage_at_and_around_twenty_percent(backbone, passed):
    cluster = _cluster()
    application = _application(cluster, ("backbone_share_same_stage", "gte", "0.20"))
    load_rows(application, "rotation", rotations(cluster, 10, "甲校", "乙校", backbone=backbone))

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(backbone, 10), passed)


@pytest.mark.parametrize(("eligible_k", "rotated", "passed"), [(20, 1, True), (21, 1, False), (20, 2, True)])
def test_kindergarten_rotation_rate_at_and_around_five_percent(eligible_k, rotated, passed):
    cluster = _cluster(kindergarten=True)
    application = _application(cluster, ("kindergarten_rotation_rate", "gte", "0.05", True))
    load_rows(
        application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30, "丙校": 30, "丁园": eligible_k})
    )
    k_rows = rotations(cluster, rotated, "丁园", "乙校", stages=("kindergarten", "kindergarten"))
    load_rows(application, "rotation", rotations(cluster, 10, "甲校", "乙校") + k_rows)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(rotated, eligible_k), passed)
    assert result.detail["denominator"] == eligible_k


def test_kindergarten_rates_are_not_applicable_without_a_kindergarten():
    cluster = _cluster(kindergarten=False)
    application = _application(
        cluster,
        ("kindergarten_rotation_rate", "gte", "0.05", True),
        ("kindergarten_backbone_share", "gte", "0.30", True),
    )
    load_rows(application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30, "丙校": 30}))
    load_rows(application, "rotation", rotations(cluster, 10, "甲校", "乙校"))

    results = list(compute_indicators(application).values())

    assert [(r.not_applicable, r.passed, r.value) for r in results] == [(True, None, None), (True, None, None)]
    assert results[0].display == "不适用：本学区/集团没有幼儿园。"


def test_kindergarten_rate_without_n_a_allowed_leaves_the_decision_to_the_evaluators():
    cluster = _cluster(kindergarten=False)
    application = _application(cluster, ("kindergarten_rotation_rate", "gte", "0.05"))

    result = result_of(application)

    assert (result.not_applicable, result.passed, result.value) == (False, None, None)
    assert result.missing_data == "本学区/集团没有幼儿园。该指标不允许“不适用”，由评估专家判断。"


@pytest.mark.parametrize(("backbone", "passed"), [(3, True), (2, False), (4, True)])
def test_kindergarten_backbone_share_at_and_around_thirty_percent(backbone, passed):
    cluster = _cluster(kindergarten=True)
    application = _application(cluster, ("kindergarten_backbone_share", "gte", "0.30", True))
    k_rows = rotations(cluster, 10, "丁园", "乙校", stages=("kindergarten", "kindergarten"), backbone=backbone)
    load_rows(application, "rotation", k_rows + rotations(cluster, 10, "甲校", "乙校", backbone=10))

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(backbone, 10), passed)


# Term ≥ 3 years; teams of ≥ 3 into each receiving weak school (seed 002) ---------------------------------------


@pytest.mark.parametrize(
    ("term", "passed", "display"), [("3", True, "3 年"), ("2.9", False, "2.9 年"), ("3.5", True, "3.5 年")]
)
def test_rotation_term_min_years_at_and_around_three_years(term, passed, display):
    cluster = _cluster()
    application = _application(cluster, ("rotation_term_min_years", "gte", "3"))
    load_rows(
        application,
        "rotation",
        # Seed 002 sets the term of the flow between core (甲校) and member schools: a member ↔ member rotation
        # has no say (issue 9, rule 3), so the short one here runs from a member school to the core school.
        rotations(cluster, 4, "甲校", "乙校", term="5")
        + rotations(cluster, 1, "丙校", "甲校", term=term)
        + rotations(cluster, 1, "乙校", "丙校", term="1"),
    )

    result = result_of(application)

    assert (result.value, result.passed, result.display) == (Fraction(Decimal(term)), passed, display)


@pytest.mark.parametrize(("team", "passed"), [(3, True), (2, False), (4, True)])
def test_weak_school_inflow_min_at_and_around_three_teachers(team, passed):
    cluster = _cluster(weak=True)
    application = _application(cluster, ("weak_school_inflow_min", "gte", "3", True))
    load_rows(application, "rotation", rotations(cluster, team, "甲校", "丙校") + rotations(cluster, 5, "甲校", "乙校"))

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(team), passed)
    assert result.detail["breakdown"] == [{"label": "丙校", "value": team}]


def test_weak_school_inflow_is_not_applicable_without_a_weak_school():
    cluster = _cluster(weak=False)
    application = _application(cluster, ("weak_school_inflow_min", "gte", "3", True))
    load_rows(application, "rotation", rotations(cluster, 5, "甲校", "乙校"))

    result = result_of(application)

    assert (result.not_applicable, result.passed) == (True, None)


# Shared courses (seed 002: ≥ 5 and more than last year, ≥ 1 per school per semester; 2–3 high-quality, ≥ 1/3) ----


def course(
    cluster, name, semester, *, provider="甲校", schools=("乙校", "丙校"), students=50, hq=False, grade_students=None
):
    return {
        "course": name,
        "provider": school(cluster, provider),
        "semester": semester,
        "year": int(semester[:4]),
        "participant_ids": [school(cluster, provider).pk, *(school(cluster, s).pk for s in schools)],
        "students": students,
        "high_quality": hq,
        "grade_students": grade_students,
    }


@pytest.mark.parametrize(("courses", "passed"), [(5, True), (4, False), (6, True)])
def test_shared_course_count_at_and_around_five(courses, passed):
    cluster = _cluster()
    application = _application(cluster, ("shared_course_count", "gte", "5"))
    rows = [course(cluster, f"课程{n}", "2025-1") for n in range(courses)]
    rows.append(course(cluster, "课程0", "2025-2"))  # the same course in the second semester counts once
    load_rows(application, "shared_courses", rows)

    result = result_of(application)

    assert (result.value, result.passed, result.display) == (Fraction(courses), passed, str(courses))


@pytest.mark.parametrize(("last_year", "value", "passed"), [(4, 1, True), (5, 0, False), (6, -1, False)])
def test_shared_course_growth_compares_with_last_year(last_year, value, passed):
    cluster = _cluster()
    application = _application(cluster, ("shared_course_growth", "gt", "0"))
    rows = [course(cluster, f"课程{n}", "2025-1") for n in range(5)]
    rows += [course(cluster, f"旧课{n}", "2024-2") for n in range(last_year)]
    load_rows(application, "shared_courses", rows)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(value), passed)


def test_shared_course_growth_without_last_year_says_what_is_missing():
    cluster = _cluster()
    application = _application(cluster, ("shared_course_growth", "gt", "0"))
    load_rows(application, "shared_courses", [course(cluster, "课程", "2025-1")])

    result = result_of(application)

    assert (result.value, result.passed) == (None, None)
    assert result.missing_data == "与上一学年比较需要在同一工作簿中填写 2024 学年的共享课程。"


@pytest.mark.parametrize(
    ("second_semester_schools", "value", "passed"), [(("乙校", "丙校"), 1, True), (("乙校",), 0, False)]
)
def test_shared_courses_per_school_semester_min_counts_every_school(second_semester_schools, value, passed):
    cluster = _cluster()
    application = _application(cluster, ("shared_courses_per_school_semester_min", "gte", "1"))
    rows = [
        course(cluster, "课程一", "2025-1"),
        course(cluster, "课程二", "2025-1"),
        course(cluster, "课程三", "2025-2", schools=second_semester_schools),
    ]
    load_rows(application, "shared_courses", rows)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(value), passed)
    assert {"label": "丙校 2025-1", "value": 2} in result.detail["breakdown"]


@pytest.mark.parametrize(("high_quality", "passed"), [(2, True), (3, True), (1, False), (4, False)])
def test_high_quality_course_count_within_two_to_three(high_quality, passed):
    cluster = _cluster()
    application = _application(cluster, ("high_quality_course_count", "between", "2", "3"))
    rows = [course(cluster, f"精品{n}", "2025-1", hq=True, grade_students=300) for n in range(high_quality)]
    rows += [course(cluster, f"普通{n}", "2025-1") for n in range(3)]
    load_rows(application, "shared_courses", rows)

    result = result_of(application)

    assert (result.value, result.passed, result.threshold_display) == (Fraction(high_quality), passed, "介于 2–3")


@pytest.mark.parametrize(("students", "passed"), [(100, True), (99, False), (101, True)])
def test_high_quality_course_student_share_at_and_around_one_third(students, passed):
    cluster = _cluster()
    application = _application(cluster, ("high_quality_course_student_share", "gte", "1/3"))
    rows = [
        course(cluster, "精品一", "2025-1", hq=True, students=students - 40, grade_students=200),
        course(cluster, "精品二", "2025-2", hq=True, students=40, grade_students=100),
        course(cluster, "普通课", "2025-1", students=500),
    ]
    load_rows(application, "shared_courses", rows)

    result = result_of(application)

    assert (result.value, result.passed, result.threshold_display) == (Fraction(students, 300), passed, "≥ 1/3")
    assert (result.detail["numerator"], result.detail["denominator"]) == (students, 300)


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
    cluster = _cluster()
    application = _application(cluster, ("shared_resource_student_coverage", "gte", "1"))
    load_rows(
        application,
        "school_stats",
        [stats(cluster, "甲校"), stats(cluster, "乙校", covered=covered), stats(cluster, "丙校")],
    )

    result = result_of(application)

    assert (result.value, result.passed, result.display) == (Fraction(1000 + covered, 1500), passed, display)


@pytest.mark.parametrize(("working", "passed"), [(40, True), (39, False)])
def test_teacher_participation_rate_must_reach_every_teacher(working, passed):
    cluster = _cluster()
    application = _application(cluster, ("teacher_participation_rate", "gte", "1"))
    load_rows(
        application,
        "school_stats",
        [stats(cluster, "甲校", working=working), stats(cluster, "乙校"), stats(cluster, "丙校")],
    )

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(80 + working, 120), passed)


def test_school_stats_missing_a_school_is_missing_data_not_a_pass():
    cluster = _cluster()
    application = _application(cluster, ("shared_resource_student_coverage", "gte", "1"))
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
    cluster = _cluster()
    application = _application(cluster, ("pass_share_margin", "gte", "0"))
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
    cluster = _cluster()
    application = _application(cluster, ("inter_school_difference_rate_max", "lt", "0.15"))
    # Two schools at mean ∓ d: the population standard deviation is d, so CV = d / 100 exactly.
    rows = [academic(cluster, "甲校", "primary", low), academic(cluster, "乙校", "primary", high)]
    rows.append(academic(cluster, "甲校", "junior", "80"))
    load_rows(application, "academic_results", rows)

    result = result_of(application)

    assert (result.passed, result.display, result.threshold_display) == (passed, display, "< 0.15")
    assert result.detail["breakdown"][0]["label"] == "小学"
    assert result.detail["breakdown"][1] == {"label": "初中", "value": "未计算：少于两所学校"}


def test_inter_school_difference_rate_takes_the_largest_stage_and_compares_exactly():
    cluster = _cluster()
    application = _application(cluster, ("inter_school_difference_rate_max", "lt", "0.15"))
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
    cluster = _cluster()
    application = _application(cluster, ("junior_pass_rate", "gte", "0.99", True))
    rows = [
        academic(cluster, "甲校", "junior", "80", passed=junior_passed, students=1000),
        academic(cluster, "乙校", "primary", "80", passed=50),
    ]
    load_rows(application, "academic_results", rows)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(junior_passed, 1000), passed)


def test_junior_pass_rate_is_not_applicable_without_a_junior_school():
    cluster = _cluster(junior=False)
    application = _application(cluster, ("junior_pass_rate", "gte", "0.99", True))
    load_rows(application, "academic_results", [academic(cluster, "甲校", "primary", "80")])

    result = result_of(application)

    assert (result.not_applicable, result.passed, result.display) == (True, None, "不适用：本学区/集团没有初中学校。")


@pytest.mark.parametrize(("this_year", "passed"), [(9500, False), (9501, True), (9499, False)])
def test_weak_school_improvement_min_must_be_above_zero(this_year, passed):
    cluster = _cluster(weak=True)
    application = _application(cluster, ("weak_school_improvement_min", "gt", "0", True))
    rows = [
        academic(cluster, "丙校", "primary", "80", passed=95, year=2024),
        academic(cluster, "丙校", "primary", "81", passed=this_year, students=10000),
        academic(cluster, "乙校", "primary", "81", passed=50),
    ]
    load_rows(application, "academic_results", rows)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(this_year, 10000) - Fraction(95, 100), passed)


def test_weak_school_improvement_is_not_applicable_without_a_weak_school():
    cluster = _cluster(weak=False)
    application = _application(cluster, ("weak_school_improvement_min", "gt", "0", True))

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
    cluster = _cluster()
    application = _application(cluster, ("quota_plan_completion", "gte", "1", True))
    load_rows(application, "enrolment", [enrolment(cluster, "甲校", 40, filled)])

    result = result_of(application)

    assert (result.value, result.passed, result.display) == (Fraction(filled, 40), passed, display)


def test_quota_plan_completion_is_not_applicable_without_a_junior_school():
    application = _application(_cluster(junior=False), ("quota_plan_completion", "gte", "1", True))

    result = result_of(application)

    assert (result.not_applicable, result.passed) == (True, None)


@pytest.mark.parametrize(("rate", "passed"), [("60", True), ("59.99", False), ("60.01", True)])
def test_quality_senior_entry_margin_against_the_district_average(rate, passed):
    cluster = _cluster()
    application = _application(cluster, ("quality_senior_entry_margin", "gte", "0", True))
    load_rows(application, "enrolment", [enrolment(cluster, "甲校", 40, 40, rate=rate)])

    result = result_of(application)

    assert (result.value, result.passed) == ((Fraction(Decimal(rate)) - 60) / 100, passed)


@pytest.mark.parametrize(("parents", "passed", "display"), [(90, True, "90%"), (89, False, "89%"), (91, True, "91%")])
def test_satisfaction_min_takes_the_lower_of_parents_and_teachers(parents, passed, display):
    cluster = _cluster()
    application = _application(cluster, ("satisfaction_min", "gte", "0.90"))
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
    cluster = _cluster()
    application = _application(cluster, ("satisfaction_min", "gte", "0.90"))
    load_rows(application, "satisfaction", [{"group": "parents", "year": 2025, "respondents": 100, "satisfied": 99}])

    result = result_of(application)

    assert (result.value, result.passed) == (None, None)
    assert result.missing_data == "缺少 2025 学年教师的满意度调查。"


# City-model expectation: district-model held ≥ 1 year --------------------------------------------------------------


@pytest.mark.parametrize(
    ("years_back", "days_later", "value", "passed"), [(1, 0, 1, True), (1, 1, 0, False), (2, 0, 2, True)]
)
def test_district_model_years_held_counts_full_years(years_back, days_later, value, passed):
    cluster = _cluster()
    application = _application(cluster, ("district_model_years_held", "gte", "1"))
    opened = timezone.localtime(application.created).date()
    cluster.current_tier = Tier.DISTRICT_MODEL
    cluster.tier_since = opened.replace(year=opened.year - years_back) + datetime.timedelta(days=days_later)
    cluster.save(update_fields=["current_tier", "tier_since"])
    application.refresh_from_db()

    result = result_of(application)

    assert (result.value, result.passed, result.threshold_display) == (Fraction(value), passed, "≥ 1 年")


def test_district_model_years_held_is_zero_below_the_district_model_tier():
    cluster = _cluster()
    application = _application(cluster, ("district_model_years_held", "gte", "1"))

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(0), False)


# Data version --------------------------------------------------------------------------------------------------------


def test_data_version_changes_when_an_import_replaces_the_data_and_only_then():
    cluster = _cluster()
    application = _application(cluster, ("satisfaction_min", "gte", "0.90"))
    before = data_version(application)
    load_rows(application, "satisfaction", [{"group": "parents", "year": 2025, "respondents": 10, "satisfied": 9}])

    after = data_version(application)

    assert before != after
    assert data_version(application) == after


def test_community_schools_are_not_asked_for_courses_or_school_data():
    cluster = _cluster()
    community = SchoolFactory(name="天平社区学校", district=cluster.district, kind=School.Kind.COMMUNITY)
    ClusterMembership.objects.create(cluster=cluster, school=community)
    application = _application(
        cluster,
        ("shared_courses_per_school_semester_min", "gte", "1"),
        ("shared_resource_student_coverage", "gte", "1"),
    )
    load_rows(application, "shared_courses", [course(cluster, "课程一", "2025-1"), course(cluster, "课程一", "2025-2")])
    load_rows(application, "school_stats", [stats(cluster, "甲校"), stats(cluster, "乙校"), stats(cluster, "丙校")])

    results = list(compute_indicators(application).values())

    assert [(r.value, r.passed, r.missing_data) for r in results] == [(Fraction(1), True, ""), (Fraction(1), True, "")]
