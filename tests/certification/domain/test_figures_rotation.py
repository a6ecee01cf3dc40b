"""Issue 9, the rotation rules (1, 2, 3, 5, 6), each from its seed sentence, at, just below and just above its line,
through the real path: template workbook → import → computed indicator → pre-filled score sheet → aggregate.

Seed 000 = 000_2e706467f536e9b4.txt (紧密型), seed 002 = 002_8209cd563b3064c1.txt (区级示范性).
"""

import pytest
from django.utils import translation

from certification.models import DatasetImport
from tests.factories.datasets import computed_standard, data_application
from tests.factories.workbooks import (
    SPRING,
    compute_one,
    eligible,
    import_workbook,
    mixed_cluster,
    primary_cluster,
    roster,
    team,
    through_the_path,
)

# MEDIA_ROOT in a temporary folder (the `media` fixture of this package's conftest): imports keep their workbooks.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

HUNDRED = {"甲校": 50, "乙校": 30, "丙校": 20}


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


# Rule 1. Seed 000: "同学段学区、集团内学校每年教师交流轮岗人数应达到符合交流条件教师总数的10-20%" — 人数 counts
# people: a teacher who rotates twice in the year is one of the 人数.


@pytest.mark.parametrize(("teachers", "display", "verdict"), [(10, "10%", True), (9, "9%", False), (11, "11%", True)])
def test_rule_1_a_teacher_rotating_twice_counts_once(django_capture_on_commit_callbacks, teachers, display, verdict):
    cluster = mixed_cluster()
    standard = computed_standard(("rotation_same_stage_rate", "between", "0.10", "0.20"))
    # The first teacher rotates again in spring: one more row, not one more teacher.
    rows = [*team("T", teachers, "乙校", "丙校"), roster("T000", "丙校", "乙校", start=SPRING)]

    computed, scored, application = through_the_path(
        cluster,
        standard,
        {"eligible_teachers": eligible(HUNDRED), "rotation": rows},
        django_capture_on_commit_callbacks,
    )

    result = computed["C1"]
    assert (result.display, result.passed, result.detail["numerator"]) == (display, verdict, teachers)
    (twice,) = [row for row in result.rows if row.get("teacher") == "T000"]
    assert (twice["rotations"], twice["row"], twice["from_school"]) == (2, f"2、{teachers + 2}", ("乙校", "丙校"))
    assert (scored["C1"].value, application.passed) == ((10 if verdict else 0), verdict)


# Rule 2. Seed 000: "…交流轮岗人数应达到符合交流条件教师总数的…": a part of the 总数 cannot be more than the 总数.


SMALL = {"甲校": 50, "乙校": 3, "丙校": 20}


@pytest.mark.parametrize("rotated", [3, 2])
def test_rule_2_as_many_rotated_as_eligible_is_accepted(django_capture_on_commit_callbacks, rotated):
    standard = computed_standard(("rotation_same_stage_rate", "between", "0.10", "0.20"))
    workbooks = {"eligible_teachers": eligible(SMALL), "rotation": team("T", rotated, "乙校", "丙校")}

    computed, _scored, _application = through_the_path(
        mixed_cluster(), standard, workbooks, django_capture_on_commit_callbacks
    )

    assert (computed["C1"].detail["numerator"], computed["C1"].detail["denominator"]) == (rotated, 73)


def test_rule_2_more_rotated_than_eligible_is_refused_at_import(django_capture_on_commit_callbacks):
    application = data_application(
        mixed_cluster(), computed_standard(("rotation_same_stage_rate", "between", "0.10", "0.20"))
    )
    import_workbook(application, "eligible_teachers", eligible(SMALL), django_capture_on_commit_callbacks)

    dataset_import = import_workbook(
        application, "rotation", team("T", 4, "乙校", "丙校"), django_capture_on_commit_callbacks
    )

    assert dataset_import.status == DatasetImport.Status.FAILED
    assert [(e["sheet"], e["row"], e["column"], e["header"]) for e in dataset_import.errors] == [
        ("交流轮岗名册", 5, "B", "调出学校")
    ]
    assert dataset_import.errors[0]["message"] == (
        "乙校 在 2025 学年轮岗的教师多于其 3 名符合交流条件的教师；比例不能超过 100%。请核对名册或符合交流条件教师数据。"
    )


def test_rule_2_eligible_teachers_below_the_roster_already_imported_are_refused(django_capture_on_commit_callbacks):
    cluster = mixed_cluster()

    application = data_application(cluster, computed_standard(("rotation_same_stage_rate", "between", "0.10", "0.20")))
    import_workbook(application, "rotation", team("T", 4, "乙校", "丙校"), django_capture_on_commit_callbacks)

    dataset_import = import_workbook(
        application,
        "eligible_teachers",
        eligible(SMALL),
        django_capture_on_commit_callbacks,
    )

    assert dataset_import.status == DatasetImport.Status.FAILED
    assert [(e["row"], e["column"], e["message"]) for e in dataset_import.errors] == [
        (3, "C", "少于已导入名册中本校 2025 学年轮岗的 4 名教师；比例不能超过 100%。")
    ]


# Rule 3. Seed 000: "…其中骨干教师比例均不低于交流轮岗教师总数的20%" — 均: same-stage and cross-stage rotation each.


@pytest.mark.parametrize(("backbone", "display", "verdict"), [(2, "20%", True), (1, "10%", False), (3, "30%", True)])
def test_rule_3_backbone_share_of_same_stage_rotation_is_not_pooled_with_cross_stage(
    django_capture_on_commit_callbacks, backbone, display, verdict
):
    cluster = mixed_cluster()
    standard = computed_standard(("backbone_share_same_stage", "gte", "0.20"))
    same_stage = team("S", 10, "乙校", "丙校", backbone=backbone)
    # Five cross-stage backbone teachers: pooled, 1 + 5 of 15 would pass at 40%.
    cross_stage = team("X", 5, "甲校", "乙校", stages=("初中", "小学"), backbone=5)

    computed, scored, _application = through_the_path(
        cluster, standard, {"rotation": same_stage + cross_stage}, django_capture_on_commit_callbacks
    )

    assert (computed["C1"].display, computed["C1"].passed, computed["C1"].detail["denominator"]) == (
        display,
        verdict,
        10,
    )
    assert scored["C1"].value == (10 if verdict else 0)


# Rule 3. Seed 002: "每年核心校（或领衔校）与成员校间教师流动人数…，其中…骨干教师不低于20%" — 其中: of that flow only.


@pytest.mark.parametrize(("backbone", "verdict"), [(1, True), (0, False), (2, True)])
def test_rule_3_backbone_share_of_the_core_member_flow_ignores_member_to_member(
    django_capture_on_commit_callbacks, backbone, verdict
):
    cluster = mixed_cluster()
    standard = computed_standard(("backbone_share_core_member", "gte", "0.20"), tier="district_model")
    core_member = team("C", 5, "甲校", "乙校", backbone=backbone)
    between_members = team("M", 5, "乙校", "丙校", backbone=5)

    computed, _scored, application = through_the_path(
        cluster, standard, {"rotation": core_member + between_members}, django_capture_on_commit_callbacks
    )

    assert (computed["C1"].detail["numerator"], computed["C1"].detail["denominator"]) == (backbone, 5)
    assert application.passed is verdict


# Rule 5. Seed 000: "跨学段学区、集团的学校每年教师交流轮岗人数应不低于符合交流条件教师总数的5%" — only a cluster
# that spans 学段 has cross-stage rotation to measure.


def test_rule_5_cross_stage_rate_of_a_one_stage_cluster_is_na_and_left_out(django_capture_on_commit_callbacks):
    standard = computed_standard(
        ("rotation_cross_stage_rate", "gte", "0.05", True), ("rotation_same_stage_rate", "between", "0.10", "0.20")
    )

    computed, scored, application = through_the_path(
        primary_cluster(),
        standard,
        {"eligible_teachers": eligible(HUNDRED), "rotation": team("T", 10)},
        django_capture_on_commit_callbacks,
    )

    assert (computed["C1"].not_applicable, computed["C1"].display) == (
        True,
        "不适用：本学区/集团各校都只有一个学段，没有跨学段轮岗可计算。",
    )
    assert scored["C1"].not_applicable is True
    # Left out of the sum and the maximum: C2's full marks are the whole (rescaled) total.
    assert (application.total_score, application.passed) == (20, True)


@pytest.mark.parametrize(("cross", "display", "verdict"), [(5, "5%", True), (4, "4%", False), (0, "0%", False)])
def test_rule_5_cross_stage_rate_of_a_two_stage_cluster_counts_even_at_zero(
    django_capture_on_commit_callbacks, cross, display, verdict
):
    standard = computed_standard(("rotation_cross_stage_rate", "gte", "0.05", True))
    rows = team("X", cross, "甲校", "乙校", stages=("初中", "小学")) + team("T", 10)

    computed, scored, _application = through_the_path(
        mixed_cluster(),
        standard,
        {"eligible_teachers": eligible(HUNDRED), "rotation": rows},
        django_capture_on_commit_callbacks,
    )

    assert (computed["C1"].not_applicable, computed["C1"].display, computed["C1"].passed) == (False, display, verdict)
    assert scored["C1"].not_applicable is False


# Rule 6. Seed 000: "…每年教师交流轮岗人数应达到符合交流条件教师总数的…" — the year's rotations over the same year's
# eligible teachers.


@pytest.mark.parametrize(
    ("eligible_year", "display", "missing"),
    [
        (2025, "10%", ""),
        (2024, "无数据", "缺少 2025 学年“符合交流条件教师”的数据。"),
        (2026, "无数据", "缺少 2026 学年“交流轮岗名册”的数据。"),
    ],
)
def test_rule_6_eligible_teachers_and_roster_of_different_years_name_what_is_missing(
    django_capture_on_commit_callbacks, eligible_year, display, missing
):
    cluster = mixed_cluster()
    standard = computed_standard(("rotation_same_stage_rate", "between", "0.10", "0.20"))

    application = data_application(cluster, standard)
    import_workbook(
        application, "eligible_teachers", eligible(HUNDRED, eligible_year), django_capture_on_commit_callbacks
    )
    import_workbook(application, "rotation", team("T", 10), django_capture_on_commit_callbacks)

    result = compute_one(application)

    assert (result.display, result.missing_data) == (display, missing)
