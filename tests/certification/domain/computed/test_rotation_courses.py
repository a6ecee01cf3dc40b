"""Computed metrics on teacher rotation and shared courses against hand-worked examples of DOMAIN.md's table: at,
just below and just above each threshold.

Thresholds are those of seeds 000 (紧密型) and 002 (区级示范性). Rows are loaded as a finished import so that the
arithmetic is what is tested; tests/certification/datasets/test_datasets.py covers getting them there from Excel.
"""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse

from certification.domain.computed import compute_indicators
from certification.models import ClusterMembership
from tests.certification.domain.computed.clusters import course, make_application, make_cluster, result_of
from tests.factories.datasets import load_rows, school
from tests.factories.scoring import panel

pytestmark = pytest.mark.django_db


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
    cluster = make_cluster()
    application = make_application(cluster, ("rotation_same_stage_rate", "between", "0.10", "0.20"))
    load_rows(application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30, "丙校": 30}))
    load_rows(application, "rotation", rotations(cluster, rotated, "甲校", "乙校"))

    result = result_of(application)

    assert (result.value, result.passed, result.display) == (Fraction(rotated, 100), passed, display)
    assert result.threshold_display == "介于 10%–20%"
    assert (result.detail["numerator"], result.detail["denominator"], result.detail["year"]) == (rotated, 100, 2025)
    assert len(result.rows) == rotated + 3


def test_rotation_same_stage_rate_counts_only_rotations_of_the_eligible_year():
    cluster = make_cluster()
    application = make_application(cluster, ("rotation_same_stage_rate", "between", "0.10", "0.20"))
    load_rows(application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30, "丙校": 30}))
    # 10 start in school year 2025; 5 started in June 2025, which is school year 2024.
    this_year = rotations(cluster, 10, "甲校", "乙校")
    last_year = rotations(cluster, 5, "乙校", "丙校", start=datetime.date(2025, 6, 1))
    load_rows(application, "rotation", this_year + last_year)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(10, 100), True)


def test_rotation_rate_missing_a_school_of_eligible_teachers_names_it():
    cluster = make_cluster()
    application = make_application(cluster, ("rotation_same_stage_rate", "between", "0.10", "0.20"))
    load_rows(application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30}))
    load_rows(application, "rotation", rotations(cluster, 10, "甲校", "乙校"))

    result = result_of(application)

    assert (result.value, result.passed) == (None, None)
    assert result.missing_data == "“符合交流条件教师”缺少以下学校 2025 学年的数据：丙校。"


def test_rotation_rate_without_any_import_says_which_data_set_is_missing():
    application = make_application(make_cluster(), ("rotation_same_stage_rate", "between", "0.10", "0.20"))

    result = result_of(application)

    assert (result.value, result.passed, result.not_applicable) == (None, None, False)
    assert result.missing_data == "尚未导入“交流轮岗名册”数据。"


# Rotation: cross-stage ≥ 5%, core↔member ≥ 10% ------------------------------------------------------------------


@pytest.mark.parametrize(("rotated", "passed"), [(5, True), (4, False), (6, True)])
def test_rotation_cross_stage_rate_at_and_around_five_percent(rotated, passed):
    cluster = make_cluster()
    application = make_application(cluster, ("rotation_cross_stage_rate", "gte", "0.05"))
    load_rows(application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30, "丙校": 30}))
    same_stage = rotations(cluster, 7, "乙校", "丙校")
    load_rows(
        application, "rotation", same_stage + rotations(cluster, rotated, "甲校", "乙校", stages=("junior", "primary"))
    )

    result = result_of(application)

    assert (result.value, result.passed, result.threshold_display) == (Fraction(rotated, 100), passed, "≥ 5%")


@pytest.mark.parametrize(("rotated", "passed"), [(10, True), (9, False), (11, True)])
def test_rotation_core_member_rate_counts_only_rotations_between_core_and_member(rotated, passed):
    cluster = make_cluster()
    application = make_application(cluster, ("rotation_core_member_rate", "gte", "0.10"))
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
    cluster = make_cluster()
    application = make_application(cluster, ("backbone_share_same_stage", "gte", "0.20"))
    load_rows(application, "rotation", rotations(cluster, 10, "甲校", "乙校", backbone=backbone))

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(backbone, 10), passed)


@pytest.mark.parametrize(("eligible_k", "rotated", "passed"), [(20, 1, True), (21, 1, False), (20, 2, True)])
def test_kindergarten_rotation_rate_at_and_around_five_percent(eligible_k, rotated, passed):
    cluster = make_cluster(kindergarten=True)
    application = make_application(cluster, ("kindergarten_rotation_rate", "gte", "0.05", True))
    load_rows(
        application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30, "丙校": 30, "丁园": eligible_k})
    )
    k_rows = rotations(cluster, rotated, "丁园", "乙校", stages=("kindergarten", "kindergarten"))
    load_rows(application, "rotation", rotations(cluster, 10, "甲校", "乙校") + k_rows)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(rotated, eligible_k), passed)
    assert result.detail["denominator"] == eligible_k


def test_kindergarten_rates_are_not_applicable_without_a_kindergarten():
    cluster = make_cluster(kindergarten=False)
    application = make_application(
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
    cluster = make_cluster(kindergarten=False)
    application = make_application(cluster, ("kindergarten_rotation_rate", "gte", "0.05"))

    result = result_of(application)

    assert (result.not_applicable, result.passed, result.value) == (False, None, None)
    assert result.missing_data == "本学区/集团没有幼儿园。该指标不允许“不适用”，由评估专家判断。"


@pytest.mark.parametrize(("backbone", "passed"), [(3, True), (2, False), (4, True)])
def test_kindergarten_backbone_share_at_and_around_thirty_percent(backbone, passed):
    cluster = make_cluster(kindergarten=True)
    application = make_application(cluster, ("kindergarten_backbone_share", "gte", "0.30", True))
    k_rows = rotations(cluster, 10, "丁园", "乙校", stages=("kindergarten", "kindergarten"), backbone=backbone)
    load_rows(application, "rotation", k_rows + rotations(cluster, 10, "甲校", "乙校", backbone=10))

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(backbone, 10), passed)


# Term ≥ 3 years; teams of ≥ 3 into each receiving weak school (seed 002) ---------------------------------------


@pytest.mark.parametrize(
    ("term", "passed", "display"), [("3", True, "3 年"), ("2.9", False, "2.9 年"), ("3.5", True, "3.5 年")]
)
def test_rotation_term_min_years_at_and_around_three_years(term, passed, display):
    cluster = make_cluster()
    application = make_application(cluster, ("rotation_term_min_years", "gte", "3"))
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
    cluster = make_cluster(weak=True)
    application = make_application(cluster, ("weak_school_inflow_min", "gte", "3", True))
    load_rows(application, "rotation", rotations(cluster, team, "甲校", "丙校") + rotations(cluster, 5, "甲校", "乙校"))

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(team), passed)
    assert result.detail["breakdown"] == [{"label": "丙校", "value": team}]


def test_weak_school_inflow_is_not_applicable_without_a_weak_school():
    cluster = make_cluster(weak=False)
    application = make_application(cluster, ("weak_school_inflow_min", "gte", "3", True))
    load_rows(application, "rotation", rotations(cluster, 5, "甲校", "乙校"))

    result = result_of(application)

    assert (result.not_applicable, result.passed) == (True, None)


# Shared courses (seed 002: ≥ 5 and more than last year, ≥ 1 per school per semester; 2–3 high-quality, ≥ 1/3) ----


@pytest.mark.parametrize(("courses", "passed"), [(5, True), (4, False), (6, True)])
def test_shared_course_count_at_and_around_five(courses, passed):
    cluster = make_cluster()
    application = make_application(cluster, ("shared_course_count", "gte", "5"))
    rows = [course(cluster, f"课程{n}", "2025-1") for n in range(courses)]
    rows.append(course(cluster, "课程0", "2025-2"))  # the same course in the second semester counts once
    load_rows(application, "shared_courses", rows)

    result = result_of(application)

    assert (result.value, result.passed, result.display) == (Fraction(courses), passed, str(courses))


@pytest.mark.parametrize(("last_year", "value", "passed"), [(4, 1, True), (5, 0, False), (6, -1, False)])
def test_shared_course_growth_compares_with_last_year(last_year, value, passed):
    cluster = make_cluster()
    application = make_application(cluster, ("shared_course_growth", "gt", "0"))
    rows = [course(cluster, f"课程{n}", "2025-1") for n in range(5)]
    rows += [course(cluster, f"旧课{n}", "2024-2") for n in range(last_year)]
    load_rows(application, "shared_courses", rows)

    result = result_of(application)

    assert (result.value, result.passed) == (Fraction(value), passed)


def test_shared_course_growth_without_last_year_says_what_is_missing():
    cluster = make_cluster()
    application = make_application(cluster, ("shared_course_growth", "gt", "0"))
    load_rows(application, "shared_courses", [course(cluster, "课程", "2025-1")])

    result = result_of(application)

    assert (result.value, result.passed) == (None, None)
    assert result.missing_data == "与上一学年比较需要在同一工作簿中填写 2024 学年的共享课程。"


@pytest.mark.parametrize(
    ("second_semester_schools", "value", "passed"), [(("乙校", "丙校"), 1, True), (("乙校",), 0, False)]
)
def test_shared_courses_per_school_semester_min_counts_every_school(second_semester_schools, value, passed):
    cluster = make_cluster()
    application = make_application(cluster, ("shared_courses_per_school_semester_min", "gte", "1"))
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
    cluster = make_cluster()
    application = make_application(cluster, ("high_quality_course_count", "between", "2", "3"))
    rows = [course(cluster, f"精品{n}", "2025-1", hq=True, grade_students=300) for n in range(high_quality)]
    rows += [course(cluster, f"普通{n}", "2025-1") for n in range(3)]
    load_rows(application, "shared_courses", rows)

    result = result_of(application)

    assert (result.value, result.passed, result.threshold_display) == (Fraction(high_quality), passed, "介于 2–3")


@pytest.mark.parametrize(("students", "passed"), [(100, True), (99, False), (101, True)])
def test_high_quality_course_student_share_at_and_around_one_third(students, passed):
    cluster = make_cluster()
    application = make_application(cluster, ("high_quality_course_student_share", "gte", "1/3"))
    rows = [
        course(cluster, "精品一", "2025-1", hq=True, students=students - 40, grade_students=200),
        course(cluster, "精品二", "2025-2", hq=True, students=40, grade_students=100),
        course(cluster, "普通课", "2025-1", students=500),
    ]
    load_rows(application, "shared_courses", rows)

    result = result_of(application)

    assert (result.value, result.passed, result.threshold_display) == (Fraction(students, 300), passed, "≥ 1/3")
    assert (result.detail["numerator"], result.detail["denominator"]) == (students, 300)


def test_core_member_rate_without_a_designated_core_school_says_why_it_is_zero(client):
    cluster = make_cluster()
    ClusterMembership.objects.filter(cluster=cluster).update(role=ClusterMembership.Role.MEMBER)
    application = make_application(cluster, ("rotation_core_member_rate", "gte", "0.10"))
    load_rows(application, "eligible_teachers", eligible(cluster, {"甲校": 40, "乙校": 30, "丙校": 30}))
    load_rows(application, "rotation", rotations(cluster, 12, "甲校", "乙校"))
    application.status = application.Status.SCORING
    application.save(update_fields=["status"])
    (assignment,) = panel(application, 1)
    client.force_login(assignment.evaluator)

    result = result_of(application)
    computed = client.get(reverse("application_computed", args=[application.pk])).content.decode()
    sheet = client.get(reverse("scoring_sheet", args=[application.pk])).content.decode()

    note = "本学区未指定牵头校或核心校，因此没有交流轮岗计为核心校与成员校之间的交流，该数值为 0%。请在学区成员中指定核心校。"
    assert (result.value, result.note) == (Fraction(0), note)
    assert f'<p class="xq-note" data-test="note">{note}</p>' in computed
    assert f'<p class="xq-note" data-test="note">{note}</p>' in sheet
