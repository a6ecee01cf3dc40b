"""Issue 13, "data imported once for a school year serve both a 区级 application and that year's review; a later
import for the same year makes a new version and does not change a submitted score sheet".

An application of assessment year Y + 1 reads the data of school year Y (`data_school_year`); the yearly review of
school year Y reads the same (`yearly_review._monitoring`). Cluster as in test_cluster_year_versions: 50 + 30 + 20 =
100 eligible teachers; version 1 of the roster rotates 10 (10%, met), version 2 rotates 25 (25%, not met).
"""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certification.domain import datasets, yearly_review
from certification.domain.certificate import certify
from certification.domain.computed import compute_indicators, data_version
from certification.domain.opening import open_application
from certification.domain.readiness import school_year_now
from certification.domain.roles import grant_role
from certification.domain.scoring import get_or_create_sheet, submit_sheet
from certification.errors import InvalidInput
from certification.models import Application, DatasetImport, Role, ScoreSheet, Tier, YearlyReview
from certification.models.dataset import data_school_year
from tests.factories import UserFactory
from tests.factories.datasets import computed_standard, lead, workbook_bytes, xlsx_upload
from tests.factories.evidence import make_application, pdf_bytes
from tests.factories.scoring import panel
from tests.factories.workbooks import eligible, mixed_cluster, team
from tests.workflows.driver import client_for
from workflows.engine import run_review_step, start_yearly_reviews
from workflows.flows import YearlyReviewFlow as R

pytestmark = pytest.mark.django_db

YEAR = 2025
HUNDRED = {"甲校": 50, "乙校": 30, "丙校": 20}
ROTATION = ("rotation_same_stage_rate", "between", "0.10", "0.20")


def _import(cluster, code, rows, by, capture):
    with capture(execute=True):
        started = datasets.start_cluster_import(cluster, YEAR, code, xlsx_upload(workbook_bytes(code, rows)), by=by)
    started.refresh_from_db()
    assert started.status == DatasetImport.Status.DONE, started.errors
    return started


def _figures(results):
    return {result.indicator.metric: (str(result.display), result.passed) for result in results.values()}


def _review_figures(review):
    return {row["code"]: (row["display"], row["passed"]) for row in review.computed}


def test_one_import_serves_the_district_model_application_and_the_review_of_its_school_year(
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    cluster = mixed_cluster()
    by = lead(cluster)
    office = UserFactory()
    grant_role(office, Role.DISTRICT_OFFICE, region=cluster.district)
    close_knit = computed_standard(ROTATION, tier=Tier.CLOSE_KNIT)
    computed_standard(ROTATION, tier=Tier.DISTRICT_MODEL)
    certify(make_application(cluster=cluster, standard=close_knit, status=Application.Status.PUBLICITY))

    # The lead imports the school year's data once.
    first_eligible = _import(cluster, "eligible_teachers", eligible(HUNDRED), by, capture)
    first_roster = _import(cluster, "rotation", team("T", 10), by, capture)
    version_one = {first_eligible, first_roster}

    # A 区级 application of assessment year Y + 1 reads school year Y.
    application = open_application(cluster, Tier.DISTRICT_MODEL, by=by, year=YEAR + 1)
    assert data_school_year(application) == YEAR
    assert set(application.data_versions.all()) == version_one

    # That year's review (of the 紧密型 held): started, submitted, computed from the same rows.
    (review,), _skipped = start_yearly_reviews(cluster.district, YEAR, by=office)
    assert (review.school_year, review.tier) == (YEAR, Tier.CLOSE_KNIT)
    summary = [("年度工作总结", SimpleUploadedFile("总结.pdf", pdf_bytes("y"), content_type="application/pdf"))]
    run_review_step(
        review, R.submit_data, lambda: yearly_review.submit(review, by=by, data_note="学年概述", evidence=summary)
    )
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.CONCLUSION
    assert set(review.data_versions.all()) == version_one
    assert DatasetImport.objects.filter(cluster=cluster).count() == 2  # imported once, nothing copied
    assert review.data_version == data_version(application)
    assert _review_figures(review) == {"C1": ("10%", True)}
    assert _figures(compute_indicators(application)) == {"rotation_same_stage_rate": ("10%", True)}

    # The application is scored: one evaluator submits the pre-filled sheet.
    Application.objects.filter(pk=application.pk).update(status=Application.Status.SCORING)
    application.refresh_from_db()
    (assignment,) = panel(application, 1)
    sheet = get_or_create_sheet(assignment)
    submit_sheet(sheet, by=assignment.evaluator)
    sheet.refresh_from_db()
    scores = list(sheet.scores.values_list("indicator__code", "value", "computed_value"))
    assert scores == [("C1", pytest.approx(10), "10%")]
    computed_before, version_before = review.computed, review.data_version

    # A later import for the same school year is version 2; neither consumer moves.
    second = _import(cluster, "rotation", team("U", 25), by, capture)
    assert (second.version, second.school_year) == (2, YEAR)
    assert datasets.latest_versions(cluster, YEAR)["rotation"] == second
    review.refresh_from_db()
    assert set(review.data_versions.all()) == version_one
    assert (review.computed, review.data_version) == (computed_before, version_before)
    assert set(application.data_versions.all()) == version_one
    assert _figures(compute_indicators(application)) == {"rotation_same_stage_rate": ("10%", True)}
    sheet.refresh_from_db()
    assert sheet.status == ScoreSheet.Status.SUBMITTED
    assert sheet.data_version == version_before
    assert list(sheet.scores.values_list("indicator__code", "value", "computed_value")) == scores


def test_a_review_is_started_only_for_a_school_year_whose_data_the_lead_can_import():
    cluster = mixed_cluster()
    office = UserFactory()
    grant_role(office, Role.DISTRICT_OFFICE, region=cluster.district)
    certify(
        make_application(cluster=cluster, standard=computed_standard(ROTATION), status=Application.Status.PUBLICITY)
    )
    latest = school_year_now()
    assert latest == date.today().year - 1 == data_school_year(Application(year=date.today().year))

    # The start form offers the data year an application opened today reads, not the calendar year.
    page = client_for(office).get(reverse("work:yearly_reviews")).content.decode()
    assert f'name="school_year" value="{latest}"' in page
    with pytest.raises(InvalidInput) as refused:
        start_yearly_reviews(cluster.district, latest + 1, by=office)
    assert f"请选择 {latest} 学年或更早" in str(refused.value)
    assert not YearlyReview.objects.exists()
    (review,), _skipped = start_yearly_reviews(cluster.district, latest, by=office)
    assert review.school_year == latest
