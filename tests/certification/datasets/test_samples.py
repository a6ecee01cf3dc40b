"""The demo's filled sample workbooks: they import through the lead's own path and give the figures they promise."""

import datetime
from contextlib import suppress
from fractions import Fraction
from io import BytesIO, StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import load_workbook

from certification.datasets import DATASETS
from certification.domain.computed import COMPUTATIONS, ApplicationData, compute_indicators
from certification.domain.computed.base import Unmeasured
from certification.domain.computed.outcomes import weak_school_improvement_min
from certification.domain.datasets import dataset_requirements, datasets_of, start_import
from certification.domain.demo import load_demo_data
from certification.domain.evidence import UploadFrozen, check_can_upload
from certification.domain.opening import open_application
from certification.domain.samples import build_sample_workbooks
from certification.metrics import METRICS
from certification.models import (
    ApplicationStage,
    Cluster,
    ClusterMembership,
    DatasetImport,
    EvidenceFile,
    School,
    Tier,
    TierChange,
    User,
)
from tests.factories.datasets import data_cluster, lead

YEAR = 2025


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.DEMO_MODE = True
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("load_standards", stdout=StringIO())
    load_demo_data()


def _cluster(name):
    return Cluster.objects.get(name=name)


def _open(cluster, tier, lead_username):
    # Arrange the tier the cluster holds (derived from its tier history): these tests are about the workbooks, so the
    # demo's history (天平-湖南学区 holds 区级示范性) is replaced by the rung below `tier`.
    TierChange.objects.filter(cluster=cluster).delete()
    if tier == Tier.DISTRICT_MODEL:
        # Arrange a cluster that already holds close-knit, so that it may apply for district-model.
        # The tier is derived: record it as a set-up line of the tier history.
        TierChange.objects.create(
            cluster=cluster,
            from_tier=Tier.NONE,
            to_tier=Tier.CLOSE_KNIT,
            reason=TierChange.Reason.INITIAL,
            effective=datetime.date(2020, 1, 1),
        )
        cluster.refresh_from_db()
    return open_application(cluster, tier, by=User.objects.get(username=lead_username), year=2026)


def _import_samples(application, lead_username, outcome, capture):
    """Import every sample workbook the application's standard asks for, as the lead; the imports by code."""
    lead = User.objects.get(username=lead_username)
    workbooks = build_sample_workbooks(application.cluster, year=YEAR, outcome=outcome)
    imports = {}
    for dataset in datasets_of(application):
        for requirement in dataset_requirements(application, dataset.code):
            check_can_upload(application, requirement)  # the stage is open: no refusal
        with capture(execute=True):
            upload = SimpleUploadedFile(f"{dataset.title}-{YEAR}.xlsx", workbooks[dataset.code])
            imports[dataset.code] = start_import(application, dataset.code, upload, by=lead)
        imports[dataset.code].refresh_from_db()
    return imports


def _by_code(application):
    return {result.indicator.code: result for result in compute_indicators(application).values()}


def _summary(results):
    return {code: (result.passed, result.display) for code, result in results.items()}


@pytest.mark.django_db
def test_build_sample_workbooks_fills_the_template_of_every_data_set(demo):
    cluster = _cluster("天平-湖南学区")

    workbooks = build_sample_workbooks(cluster, year=YEAR)

    assert set(workbooks) == set(DATASETS)
    rotation = load_workbook(BytesIO(workbooks["rotation"]))
    assert rotation.sheetnames == ["交流轮岗名册", "说明", "学校名单"]
    sheet = rotation["交流轮岗名册"]
    assert [cell.value for cell in sheet[1]] == DATASETS["rotation"].headers
    assert sheet.data_validations.dataValidation  # the template's drop-downs are kept
    first = [cell.value for cell in sheet[2]]
    assert first[:6] == ["JL2025-0001", "位育实验学校", "世界小学", "小学", "小学", "是"]
    assert str(first[6].date()) == "2025-09-01"


@pytest.mark.django_db
def test_build_sample_workbooks_refuses_an_unknown_outcome(demo):
    with pytest.raises(ValueError, match="outcome"):
        build_sample_workbooks(_cluster("天平-湖南学区"), year=YEAR, outcome="maybe")


@pytest.mark.django_db
def test_samples_pass_every_close_knit_indicator_of_tianping_hunan(demo, django_capture_on_commit_callbacks):
    application = _open(_cluster("天平-湖南学区"), Tier.CLOSE_KNIT, "lead_tianping")

    imports = _import_samples(application, "lead_tianping", "pass", django_capture_on_commit_callbacks)
    results = _by_code(application)

    assert {code: (item.status, item.error_count) for code, item in imports.items()} == dict.fromkeys(
        imports, ("done", 0)
    )
    assert {code: item.rows_count for code, item in imports.items()} == {
        "rotation": 108,
        "eligible_teachers": 10,
        "shared_courses": 26,
        "school_stats": 10,
        "academic_results": 24,
        "satisfaction": 3,
    }
    assert _summary(results) == {
        "B1": (True, "15.13%"),
        "B2": (True, "6.09%"),
        "B3": (True, "33.77%"),  # backbone share of the same-stage rotations only (issue 9, rule 3)
        "B4": (None, "不适用：本学区/集团没有幼儿园。"),
        "B5": (None, "不适用：本学区/集团没有幼儿园。"),
        "B6": (True, "100%"),
        "C2": (True, "3"),
        "C3": (True, "42.04%"),
        "D1": (True, "100%"),
        "B9": (True, "32.26%"),  # and of the cross-stage ones, separately ("均不低于")
    }
    assert (results["B1"].detail["numerator"], results["B1"].detail["denominator"]) == (77, 509)
    assert (results["C3"].detail["numerator"], results["C3"].detail["denominator"]) == (2652, 6308)
    assert all(results[code].not_applicable for code in ("B4", "B5"))
    # Each workbook is also kept as evidence of the requirements it fills.
    assert EvidenceFile.objects.filter(application=application).count() >= len(imports)


@pytest.mark.django_db
def test_samples_fail_three_close_knit_indicators_just_below_the_threshold(demo, django_capture_on_commit_callbacks):
    application = _open(_cluster("天平-湖南学区"), Tier.CLOSE_KNIT, "lead_tianping")

    _import_samples(application, "lead_tianping", "fail", django_capture_on_commit_callbacks)
    results = _by_code(application)

    failed = {code: result.display for code, result in results.items() if result.passed is False}
    assert failed == {"B1": "8.84%", "B6": "99.74%", "C3": "29.96%"}
    assert (results["B1"].detail["numerator"], results["B1"].detail["denominator"]) == (45, 509)
    assert (results["B6"].detail["numerator"], results["B6"].detail["denominator"]) == (769, 771)
    assert (results["C3"].detail["numerator"], results["C3"].detail["denominator"]) == (1890, 6308)
    assert len(results["B1"].rows) == 45 + 10  # the same-stage rotations and the eligible teachers behind the rate
    assert {code for code, result in results.items() if result.passed} == {"B2", "B3", "B9", "C2", "D1"}


@pytest.mark.django_db
def test_samples_pass_every_district_model_indicator_where_the_cluster_has_a_lead_school(
    demo, django_capture_on_commit_callbacks
):
    application = _open(_cluster("东孚一学区"), Tier.DISTRICT_MODEL, "lead_dongfu1")

    imports = _import_samples(application, "lead_dongfu1", "pass", django_capture_on_commit_callbacks)
    results = _by_code(application)

    assert set(imports) == {
        "rotation",
        "eligible_teachers",
        "shared_courses",
        "school_stats",
        "academic_results",
        "enrolment",
        "satisfaction",
    }
    assert _summary(results) == {
        "B1": (True, "21.3%"),
        "B2": (True, "34.69%"),
        "B3": (True, "3 年"),
        "B4": (True, "4"),
        "C2": (True, "7"),
        "C3": (True, "1"),
        "C4": (True, "3"),
        "C5": (True, "3"),
        "C6": (True, "42.06%"),
        # From the counts of students at pass level (issue 9, rule 8), which the sample rounds per school.
        "E1": (True, "+1.73 个百分点"),
        "E2": (True, "0.04"),
        "E3": (True, "99.75%"),
        "E4": (True, "100%"),
        "E5": (True, "+6.5 个百分点"),
        "E6": (True, "95.02%"),
        "E8": (True, "+1.11 个百分点"),
    }


@pytest.mark.django_db
def test_every_metric_has_one_computation_reading_only_the_data_sets_it_declares(
    demo, django_capture_on_commit_callbacks
):
    application = _open(_cluster("东孚一学区"), Tier.DISTRICT_MODEL, "lead_dongfu1")
    _import_samples(application, "lead_dongfu1", "pass", django_capture_on_commit_callbacks)

    read = {}
    for code, computation in COMPUTATIONS.items():
        data = ApplicationData(application)
        with suppress(Unmeasured):  # N/A or missing data: what was read up to there still counts
            computation(data)
        read[code] = data.read

    assert set(COMPUTATIONS) == set(METRICS)
    assert {code: datasets for code, datasets in read.items() if not datasets <= set(METRICS[code].datasets)} == {}


@pytest.mark.django_db
def test_samples_of_tianping_hunan_against_district_model_pass_all_but_core_member_rotation(
    demo, django_capture_on_commit_callbacks
):
    application = _open(_cluster("天平-湖南学区"), Tier.DISTRICT_MODEL, "lead_tianping")

    _import_samples(application, "lead_tianping", "pass", django_capture_on_commit_callbacks)
    results = _by_code(application)

    # Seed 003 names no lead school, so no rotation can be between a core and a member school: the rate is 0%, and
    # the backbone share and the term of that flow have nothing to count (issue 9, rule 3).
    assert _summary(results) == {
        "B1": (False, "0%"),
        "B2": (None, "无数据"),
        "B3": (None, "无数据"),
        "B4": (True, "4"),
        "C2": (True, "7"),
        "C3": (True, "1"),
        "C4": (True, "1"),
        "C5": (True, "3"),
        "C6": (True, "42.04%"),
        "E1": (True, "+1.44 个百分点"),
        "E2": (True, "0.04"),
        "E3": (True, "99.6%"),
        "E4": (True, "100%"),
        "E5": (True, "+6.5 个百分点"),
        "E6": (True, "95%"),
        "E8": (True, "+1.56 个百分点"),
    }
    assert (results["E4"].detail["numerator"], results["E4"].detail["denominator"]) == (138, 138)
    assert results["B4"].detail["breakdown"] == [{"label": "世界小学", "value": 4}]
    # "Weak schools improving": 世界小学 has 2 more of its 128 tested at pass level than last year's workbook rows
    # (1.5 points written as counts of students, issue 9 rule 8).
    assert weak_school_improvement_min(ApplicationData(application)).value == Fraction(2, 128)


@pytest.mark.django_db
def test_samples_fail_district_model_indicators_near_their_thresholds(demo, django_capture_on_commit_callbacks):
    application = _open(_cluster("天平-湖南学区"), Tier.DISTRICT_MODEL, "lead_tianping")

    _import_samples(application, "lead_tianping", "fail", django_capture_on_commit_callbacks)
    results = _by_code(application)

    failed = {code: result.display for code, result in results.items() if result.passed is False}
    assert failed == {"B1": "0%", "B4": "2", "C6": "29.96%", "E2": "0.16", "E6": "89%"}
    assert results["E2"].detail["breakdown"][0] == {"label": "小学", "value": "0.16（7 所学校，平均分 86）"}
    assert results["E6"].detail["breakdown"][0] == {"label": "家长", "value": "89%"}


@pytest.mark.django_db
def test_sample_imports_are_refused_once_the_process_stage_is_submitted(demo, django_capture_on_commit_callbacks):
    application = _open(_cluster("天平-湖南学区"), Tier.CLOSE_KNIT, "lead_tianping")
    ApplicationStage.objects.update_or_create(
        application=application, stage="process", defaults={"status": ApplicationStage.Status.SUBMITTED}
    )
    workbooks = build_sample_workbooks(application.cluster, year=YEAR)
    lead = User.objects.get(username="lead_tianping")

    with pytest.raises(UploadFrozen):
        start_import(
            application, "rotation", SimpleUploadedFile("交流轮岗名册-2025.xlsx", workbooks["rotation"]), by=lead
        )

    assert not DatasetImport.objects.filter(application=application).exists()


@pytest.mark.django_db
def test_sample_workbooks_command_writes_chinese_named_files(demo, tmp_path):
    out = tmp_path / "out"
    stdout = StringIO()

    call_command("sample_workbooks", "--cluster", "天平-湖南学区", "--year", "2025", "--out", str(out), stdout=stdout)

    assert sorted(path.name for path in out.iterdir()) == sorted(
        f"{dataset.title}-2025.xlsx" for dataset in DATASETS.values()
    )
    assert (out / "交流轮岗名册-2025.xlsx").read_bytes()[:2] == b"PK"
    assert str(out) in stdout.getvalue()
    assert "交流轮岗名册-2025.xlsx" in stdout.getvalue()


@pytest.mark.django_db
def test_samples_pass_the_kindergarten_indicators_of_a_cluster_with_kindergartens(
    demo, django_capture_on_commit_callbacks
):
    cluster = data_cluster(
        ("示例第一幼儿园", ["kindergarten"], ClusterMembership.Role.LEAD),
        ("示例第二幼儿园", ["kindergarten"]),
        ("示例实验小学", ["primary"], ClusterMembership.Role.LEAD),
        ("示例中心小学", ["primary"], ClusterMembership.Role.MEMBER, True),
        ("示例初级中学", ["junior"]),
    )
    School.objects.filter(memberships__cluster=cluster).update(student_count=600, teacher_count=60)
    user = lead(cluster)
    application = open_application(cluster, Tier.CLOSE_KNIT, by=user, year=2026)

    _import_samples(application, user.username, "pass", django_capture_on_commit_callbacks)
    results = _by_code(application)

    assert _summary(results) == {
        "B1": (True, "15%"),  # 30 of 5 × 40 eligible
        "B2": (True, "6%"),
        "B3": (True, "33.33%"),  # 14 of 42
        "B4": (True, "6.25%"),  # 5 of the two kindergartens' 80
        "B5": (True, "40%"),  # 2 of those 5
        "B6": (True, "100%"),
        "B9": (True, "33.33%"),
        "C2": (True, "3"),
        "C3": (True, "42.06%"),
        "D1": (True, "100%"),
    }
