"""Issue 9, the rules on courses, results, satisfaction, exactness and the seed rules new to the standards (4, 7, 8,
9, 10, 11), each from its seed sentence, at, just below and just above its line, through the real path where the
rule lives there: template workbook → import → computed indicator → pre-filled score sheet → aggregate.

Seed 000 = 000_2e706467f536e9b4.txt (紧密型), seed 002 = 002_8209cd563b3064c1.txt (区级示范性).
"""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.utils import translation

from certification.domain.aggregation import aggregate
from certification.models import ClusterMembership, DatasetImport, IndicatorResult, Tier, TierChange
from tests.factories import ClusterFactory
from tests.factories.datasets import computed_standard, data_application, data_cluster
from tests.factories.scoring import panel, scored, scoring_application, scoring_standard, submitted_sheet
from tests.factories.workbooks import (
    LEAD,
    compute_one,
    course,
    import_workbook,
    mixed_cluster,
    results,
    survey,
    through_the_path,
)

# MEDIA_ROOT in a temporary folder (the `media` fixture of this package's conftest): imports keep their workbooks.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


# Rule 4. Seed 002: "每学期学区、集团内每校至少有1门共享课程" — every semester of the school year, every school.

PER_SEMESTER = ("shared_courses_per_school_semester_min", "gte", "1")


@pytest.mark.parametrize(
    ("second_semester", "display", "verdict"),
    [
        ([course("课程一", "2025-2")], "1", True),
        ([course("课程一", "2025-2", participants="乙校")], "0", False),  # 丙校 has none in semester 2
        ([course("课程一", "2025-2"), course("课程二", "2025-2")], "2", True),
    ],
)
def test_rule_4_every_school_in_every_semester(django_capture_on_commit_callbacks, second_semester, display, verdict):
    first_semester = [course("课程一", "2025-1"), course("课程二", "2025-1")]

    computed, scored_results, _application = through_the_path(
        mixed_cluster(),
        computed_standard(PER_SEMESTER),
        {"shared_courses": first_semester + second_semester},
        django_capture_on_commit_callbacks,
    )

    assert (computed["C1"].display, computed["C1"].passed) == (display, verdict)
    assert scored_results["C1"].value == (10 if verdict else 0)


def test_rule_4_a_semester_without_rows_is_missing_not_passed(django_capture_on_commit_callbacks):
    application = data_application(mixed_cluster(), computed_standard(PER_SEMESTER))
    import_workbook(application, "shared_courses", [course("课程一", "2025-1")], django_capture_on_commit_callbacks)

    result = compute_one(application)

    assert (result.passed, result.display, result.missing_data) == (None, "无数据", "缺少 2025 学年第 2 学期的数据。")


# Rule 7. Seed 002: "家长、教师等群体对学区、集团满意度不低于90%" — the shipped standards read it per group; a
# standard may pool, and then one survey of everyone can be imported.


@pytest.mark.parametrize(
    ("satisfied", "display", "verdict"), [(900, "90%", True), (899, "89.9%", False), (901, "90.1%", True)]
)
def test_rule_7_a_pooling_standard_takes_one_survey_of_everyone(
    django_capture_on_commit_callbacks, satisfied, display, verdict
):
    computed, _scored, application = through_the_path(
        mixed_cluster(),
        computed_standard(("satisfaction_pooled", "gte", "0.90")),
        {"satisfaction": [survey("全体", 1000, satisfied)]},
        django_capture_on_commit_callbacks,
    )

    assert (computed["C1"].display, computed["C1"].passed, application.passed) == (display, verdict, verdict)


def test_rule_7_per_group_and_pooled_readings_of_the_same_surveys(django_capture_on_commit_callbacks):
    standard = computed_standard(("satisfaction_min", "gte", "0.90"), ("satisfaction_pooled", "gte", "0.90"))
    surveys = [survey("家长", 1000, 950), survey("教师", 100, 89)]

    computed, _scored, _application = through_the_path(
        mixed_cluster(), standard, {"satisfaction": surveys}, django_capture_on_commit_callbacks
    )

    # Per group the teachers' 89% fails; pooled, 1039 of 1100 is 94.45%.
    assert (computed["C1"].display, computed["C1"].passed) == ("89%", False)
    assert (computed["C2"].display, computed["C2"].passed) == ("94.45%", True)


def test_rule_7_a_per_group_standard_says_which_groups_a_survey_of_everyone_lacks(django_capture_on_commit_callbacks):
    application = data_application(mixed_cluster(), computed_standard(("satisfaction_min", "gte", "0.90")))
    import_workbook(application, "satisfaction", [survey("全体", 1000, 950)], django_capture_on_commit_callbacks)

    result = compute_one(application)

    assert (result.passed, result.missing_data) == (None, "缺少 2025 学年家长、教师的满意度调查。")


# Rule 8. Seed 002: "初中学生学业水平合格率不低于99%" — the template asks for the counts; the rate is exact.

JUNIOR_RATE = ("junior_pass_rate", "gte", "0.99", True)


@pytest.mark.parametrize(
    ("passed", "display", "verdict"), [(990, "99%", True), (989, "98.9%", False), (991, "99.1%", True)]
)
def test_rule_8_junior_pass_rate_from_counts(django_capture_on_commit_callbacks, passed, display, verdict):
    computed, _scored, application = through_the_path(
        mixed_cluster(),
        computed_standard(JUNIOR_RATE),
        {"academic_results": [results("甲校", "初中", passed=passed, tested=1000)]},
        django_capture_on_commit_callbacks,
    )

    assert (computed["C1"].value, computed["C1"].display, computed["C1"].passed) == (
        Fraction(passed, 1000),
        display,
        verdict,
    )
    assert application.passed is verdict


@pytest.mark.parametrize(("district", "refused"), [(1, True), (Decimal("0.99"), True), (Decimal("1.01"), False)])
def test_rule_8_a_percentage_typed_as_a_fraction_is_refused(django_capture_on_commit_callbacks, district, refused):
    application = data_application(mixed_cluster(), computed_standard(JUNIOR_RATE))
    rows = [results("甲校", "初中", passed=990, tested=1000, district=district)]

    dataset_import = import_workbook(application, "academic_results", rows, django_capture_on_commit_callbacks)

    if refused:
        assert [(e["row"], e["column"], e["message"]) for e in dataset_import.errors] == [
            (2, "H", f"{district} 看起来是小数形式的比例。请填写 0 至 100 之间的百分数数值，如 99 表示 99%。")
        ]
    else:
        assert (dataset_import.status, dataset_import.errors) == (DatasetImport.Status.DONE, [])


# Rule 11. Seed 002: "涉及初中学段的，参与校在确保“应考尽考”的前提下，初中学生学业水平合格率不低于99%".


@pytest.mark.parametrize(
    ("enrolled", "passed", "missing"),
    [
        (1000, True, ""),
        (1001, None, "未做到“应考尽考”：2025 学年初中应考 1001 人，参测 1000 人，合格率不作判定。"),
    ],
)
def test_rule_11_no_pass_rate_verdict_unless_everyone_eligible_was_tested(
    django_capture_on_commit_callbacks, enrolled, passed, missing
):
    application = data_application(mixed_cluster(), computed_standard(JUNIOR_RATE))
    rows = [results("甲校", "初中", passed=995, tested=1000, enrolled=enrolled)]
    import_workbook(application, "academic_results", rows, django_capture_on_commit_callbacks)

    result = compute_one(application)

    assert (result.passed, result.missing_data) == (passed, missing)


def test_rule_11_more_tested_than_should_be_is_refused(django_capture_on_commit_callbacks):
    application = data_application(mixed_cluster(), computed_standard(JUNIOR_RATE))
    rows = [results("甲校", "初中", passed=995, tested=1000, enrolled=999)]

    dataset_import = import_workbook(application, "academic_results", rows, django_capture_on_commit_callbacks)

    assert [(e["row"], e["header"], e["message"]) for e in dataset_import.errors] == [
        (2, "参测学生数", "不能多于 999（应考学生数）。")
    ]


# Rule 11. Seed 002: "相对薄弱学校进步明显" — this year's share at pass level against last year's, per weak school.


@pytest.mark.parametrize(
    ("this_year", "display", "verdict"),
    [(95, "0 个百分点", False), (94, "-1 个百分点", False), (96, "+1 个百分点", True)],
)
def test_rule_11_weak_school_progress_against_the_previous_year(
    django_capture_on_commit_callbacks, this_year, display, verdict
):
    cluster = data_cluster(("甲校", ["nine_year"], LEAD), ("乙校", ["primary"], ClusterMembership.Role.MEMBER, True))
    rows = [results("乙校", "小学", passed=95, year=2024), results("乙校", "小学", passed=this_year)]

    computed, scored_results, _application = through_the_path(
        cluster,
        computed_standard(("weak_school_improvement_min", "gt", "0", True)),
        {"academic_results": rows},
        django_capture_on_commit_callbacks,
    )

    assert (computed["C1"].display, computed["C1"].passed) == (display, verdict)
    assert scored_results["C1"].value == (10 if verdict else 0)


# Rule 9. Round only for display: the total is compared with the pass score exactly.


@pytest.mark.parametrize(
    ("third", "total", "verdict"),
    [
        ("40", Decimal("80.00"), True),
        # A1 = 119.99 / 3 = 39.9966…, shown 40.00: the rounded scores add up to 80.00, the exact total is 79.9966….
        ("39.99", Decimal("80.00"), False),
        ("40.01", Decimal("80.00"), True),
    ],
)
def test_rule_9_the_exact_total_decides_not_the_rounded_scores(db, third, total, verdict):
    standard = scoring_standard([scored("A1", 50), scored("A2", 50)], pass_score=80)
    application = scoring_application(standard)
    for assignment, a1 in zip(panel(application, 3), ("40", "40", third), strict=True):
        submitted_sheet(assignment, {"A1": a1, "A2": "40"})

    outcome = aggregate(application)

    application.refresh_from_db()
    assert (application.total_score, application.passed, outcome.passed) == (total, verdict, verdict)


def test_rule_9_a_veto_is_judged_on_the_exact_score(db):
    standard = scoring_standard([scored("A1", 10, veto=True), scored("A2", 90)], pass_score=60)
    application = scoring_application(standard)
    # A1 = (6 + 6 + 5.99) / 3 = 5.9966…: shown 6.00, yet below 60% of 10.
    for assignment, a1 in zip(panel(application, 3), ("6", "6", "5.99"), strict=True):
        submitted_sheet(assignment, {"A1": a1, "A2": "90"})

    outcome = aggregate(application)

    a1 = IndicatorResult.objects.get(application=application, indicator__code="A1")
    assert (str(a1.value), a1.veto_met, outcome.vetoes_met, outcome.passed) == ("6.00", False, False, False)


# Rule 10. Seed 002: "新成立的学区和集团，力争3-5年成为紧密型" — the founding date and the date each tier was reached.


@pytest.mark.parametrize(
    ("reached", "years"),
    [(datetime.date(2024, 9, 1), 3), (datetime.date(2024, 8, 31), 2), (datetime.date(2024, 9, 2), 3)],
)
def test_rule_10_years_from_founding_to_close_knit_come_from_the_tier_history(db, reached, years):
    cluster = ClusterFactory(founded_on=datetime.date(2021, 9, 1))
    TierChange.objects.create(
        cluster=cluster,
        from_tier=Tier.NONE,
        to_tier=Tier.CLOSE_KNIT,
        reason=TierChange.Reason.CERTIFIED,
        effective=reached,
    )

    assert (cluster.reached_on(), cluster.years_to_reach(Tier.CLOSE_KNIT)) == ({Tier.CLOSE_KNIT: reached}, years)
    assert cluster.years_to_reach(Tier.DISTRICT_MODEL) is None
