"""Data by cluster and school year (issue 13 item 1): imported once, versioned, pinned by their consumers.

Cluster: 甲校 (nine-year, core), 乙校 and 丙校 (primary); 50 + 30 + 20 = 100 eligible teachers in 2025.
Version 1 of the roster: 10 teachers 乙校 → 丙校 (same stage): 10 ÷ 100 = 10%, inside 10–20%: met.
Version 2: 25 teachers: 25%: not met. A consumer pinned to version 1 keeps reading 10%.
"""

from fractions import Fraction

import pytest

from certification.domain import datasets
from certification.domain.computed import compute_indicators, data_version
from certification.domain.opening import open_application
from certification.domain.readiness import self_check
from certification.domain.scoring import get_or_create_sheet, submit_sheet
from certification.models import Application, AuditEvent, DatasetImport, EvidenceFile, RotationRecord, ScoreSheet, Tier
from tests.factories import UserFactory
from tests.factories.datasets import computed_standard, lead, workbook_bytes, xlsx_upload
from tests.factories.scoring import panel
from tests.factories.workbooks import eligible, mixed_cluster, team

pytestmark = pytest.mark.django_db

HUNDRED = {"甲校": 50, "乙校": 30, "丙校": 20}
YEAR = 2025  # the school year an application of assessment year 2026 reads


def cluster_import(cluster, code, rows, by, capture, *, year=YEAR):
    with capture(execute=True):
        started = datasets.start_cluster_import(cluster, year, code, xlsx_upload(workbook_bytes(code, rows)), by=by)
    started.refresh_from_db()
    assert started.status == DatasetImport.Status.DONE, started.errors
    return started


@pytest.fixture
def scene(django_capture_on_commit_callbacks):
    cluster = mixed_cluster()
    by = lead(cluster)
    standard = computed_standard(("rotation_same_stage_rate", "between", "0.10", "0.20"))
    first_eligible = cluster_import(
        cluster, "eligible_teachers", eligible(HUNDRED), by, django_capture_on_commit_callbacks
    )
    first_roster = cluster_import(cluster, "rotation", team("T", 10), by, django_capture_on_commit_callbacks)
    return {
        "cluster": cluster,
        "lead": by,
        "standard": standard,
        "eligible": first_eligible,
        "roster": first_roster,
        "capture": django_capture_on_commit_callbacks,
    }


def only(results):
    (result,) = results.values()
    return result


def test_data_imported_once_serve_an_application_and_a_second_consumer(scene):
    cluster, by = scene["cluster"], scene["lead"]

    application = open_application(cluster, Tier.CLOSE_KNIT, by=by, year=YEAR + 1)
    # A second consumer of the same school year (a yearly review pins the same way): no new import.
    second = Application.objects.create(
        cluster=cluster,
        target_tier=Tier.CLOSE_KNIT,
        standard=scene["standard"],
        year=YEAR + 1,
        status=Application.Status.WITHDRAWN,
        opened_by=by,
    )
    pinned_second = datasets.pin_for(second, cluster, YEAR)

    expected = {"eligible_teachers": scene["eligible"], "rotation": scene["roster"]}
    assert datasets.pinned_versions(application) == expected
    assert pinned_second == expected
    assert datasets.pinned_versions(second) == expected
    assert DatasetImport.objects.filter(cluster=cluster).count() == 2
    result = only(compute_indicators(application))
    assert (result.value, result.display, result.passed) == (Fraction(1, 10), "10%", True)
    opened = AuditEvent.objects.get(action="application.opened", application=application)
    assert opened.payload["data_versions"] == {
        "eligible_teachers": [scene["eligible"].pk, 1],
        "rotation": [scene["roster"].pk, 1],
    }


def test_data_of_another_school_year_are_not_pinned(scene):
    application = open_application(scene["cluster"], Tier.CLOSE_KNIT, by=scene["lead"], year=YEAR + 2)

    assert datasets.pinned_versions(application) == {}
    assert only(compute_indicators(application)).display == "无数据"


def test_later_import_makes_a_new_version_and_leaves_a_submitted_score_sheet_alone(scene):
    cluster, by, capture = scene["cluster"], scene["lead"], scene["capture"]
    application = open_application(cluster, Tier.CLOSE_KNIT, by=by, year=YEAR + 1)
    Application.objects.filter(pk=application.pk).update(status=Application.Status.SCORING)
    application.refresh_from_db()
    (assignment,) = panel(application, 1)
    sheet = get_or_create_sheet(assignment)
    submit_sheet(sheet, by=assignment.evaluator)
    sheet.refresh_from_db()
    scores_before = list(sheet.scores.values_list("indicator__code", "value", "computed_value"))

    second = cluster_import(cluster, "rotation", team("U", 25), by, capture)

    scene["roster"].refresh_from_db()
    assert (scene["roster"].status, scene["roster"].version) == ("replaced", 1)
    assert (second.status, second.version, second.school_year) == ("done", 2, YEAR)
    assert RotationRecord.objects.filter(dataset_import=scene["roster"]).count() == 10  # history kept
    assert datasets.latest_versions(cluster, YEAR)["rotation"] == second
    # The application is being scored: its pins, figures and the submitted sheet do not move.
    assert datasets.pinned_versions(application)["rotation"] == scene["roster"]
    assert only(compute_indicators(application)).display == "10%"
    sheet.refresh_from_db()
    assert sheet.status == ScoreSheet.Status.SUBMITTED
    assert sheet.data_version == data_version(application)
    assert list(sheet.scores.values_list("indicator__code", "value", "computed_value")) == scores_before
    assert scores_before == [("C1", pytest.approx(10), "10%")]
    # The self-check reads the latest version.
    check = self_check(cluster, YEAR)
    assert (check.results[0].display, check.results[0].passed) == ("25%", False)


def test_an_open_application_takes_a_new_version_while_the_data_sets_stage_is_open(scene):
    cluster, by, capture = scene["cluster"], scene["lead"], scene["capture"]
    application = open_application(cluster, Tier.CLOSE_KNIT, by=by, year=YEAR + 1)

    second = cluster_import(cluster, "rotation", team("U", 15), by, capture)

    assert datasets.pinned_versions(application)["rotation"] == second
    assert only(compute_indicators(application)).display == "15%"
    # The workbook is kept as the application's evidence for the requirement the data set fills.
    kept = EvidenceFile.objects.filter(application=application, requirement__dataset="rotation")
    assert list(second.evidence_files.all()) == list(kept)
    assert kept.count() == 1
    imported = AuditEvent.objects.get(action="dataset.imported", object_id=str(second.pk))
    assert (imported.payload["version"], imported.payload["pinned_by"], imported.payload["replaced"]) == (
        2,
        [application.pk],
        [scene["roster"].pk],
    )


def test_import_from_the_application_page_is_a_version_of_the_clusters_year(scene):
    cluster, by, capture = scene["cluster"], scene["lead"], scene["capture"]
    application = open_application(cluster, Tier.CLOSE_KNIT, by=by, year=YEAR + 1)

    with capture(execute=True):
        started = datasets.start_import(
            application, "rotation", xlsx_upload(workbook_bytes("rotation", team("V", 12))), by=by
        )
    started.refresh_from_db()

    assert (started.cluster, started.school_year, started.version, started.application) == (
        cluster,
        YEAR,
        2,
        application,
    )
    assert datasets.latest_versions(cluster, YEAR)["rotation"] == started
    assert only(compute_indicators(application)).display == "12%"


def test_only_the_clusters_lead_imports_its_data(scene):
    outsider = UserFactory()
    other_lead = lead(mixed_cluster())

    for user in (outsider, other_lead):
        with pytest.raises(datasets.NotAllowed):
            datasets.start_cluster_import(
                scene["cluster"], YEAR, "rotation", xlsx_upload(workbook_bytes("rotation", team("X", 1))), by=user
            )

    assert DatasetImport.objects.filter(cluster=scene["cluster"]).count() == 2
