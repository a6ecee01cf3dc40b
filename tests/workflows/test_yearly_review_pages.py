"""The yearly review's pages: query counts that do not grow with the rows, the one-action start's scope."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certification.domain import yearly_review
from certification.domain.certificate import certify
from certification.domain.computed import data_version
from certification.models import Application, Role, Standard, Tier, TierChange, YearlyReview
from tests.factories import ClusterFactory
from tests.factories.datasets import computed_standard, data_application, data_cluster, load_rows, school
from tests.factories.evidence import make_application, pdf_bytes
from tests.factories.workflow import person
from tests.workflows.driver import client_for
from tests.workflows.review_scene import certified, rectifying_review, two_districts
from tests.workflows.work_pages.helpers import count_queries
from workflows.engine import run_review_step, start_yearly_reviews
from workflows.flows import YearlyReviewFlow as R

pytestmark = pytest.mark.django_db


def _more_certified_clusters(world, count):
    for _n in range(count):
        cluster = ClusterFactory(district=world.district, current_tier=Tier.NONE)
        certify(make_application(cluster=cluster, standard=world.standard, status=Application.Status.PUBLICITY))


@pytest.mark.parametrize("persona", ["office", "leader", "city_office"])
def test_yearly_review_list_runs_the_same_queries_for_one_and_many_reviews(persona):
    mine, _other = two_districts()
    certified(mine)
    start_yearly_reviews(mine.district, 2025, by=mine.office)
    client = client_for(getattr(mine, persona))
    url = reverse("work:yearly_reviews")
    one = count_queries(client, url)
    _more_certified_clusters(mine, 6)
    start_yearly_reviews(mine.district, 2024, by=mine.office)
    assert YearlyReview.objects.count() == 8
    assert count_queries(client, url) == one


def test_review_page_runs_the_same_queries_whatever_the_items_and_history():
    mine, _other = two_districts()
    review = rectifying_review(mine)
    client = client_for(mine.office)
    url = reverse("work:yearly_review_detail", args=[review.pk])
    before = count_queries(client, url)
    listed = review.rectifications.get()
    first = listed.items.get()
    for n in range(5):
        first.pk = None
        first.concerns = f"A{n} 增补项"
        first.save()
    assert listed.items.count() == 6
    assert count_queries(client, url) == before


def test_one_action_starts_every_certified_cluster_of_the_district_and_only_those():
    mine, other = two_districts()
    certified(mine)
    certified(other)
    _more_certified_clusters(mine, 2)
    ClusterFactory(district=mine.district, current_tier=Tier.NONE)  # not certified: no review
    started, skipped = start_yearly_reviews(mine.district, 2025, by=mine.office)
    assert (len(started), skipped) == (3, 0)
    assert {review.cluster.district_id for review in started} == {mine.district.pk}
    again, skipped = start_yearly_reviews(mine.district, 2025, by=mine.office)
    assert (again, skipped) == ([], 3)
    # The city office runs 市级示范性 only: none in the city yet.
    assert start_yearly_reviews(mine.city, 2025, by=mine.city_office) == ([], 0)


def test_monitoring_indicators_are_the_held_tiers_computed_indicators_over_the_years_data():
    cluster = data_cluster(("甲校", ["primary"], "lead"), ("乙校", ["primary"]))
    standard = computed_standard(("teacher_participation_rate", "gte", "1"))
    application = data_application(cluster, standard, status=Application.Status.PUBLICITY)
    stats = {"year": 2025, "students": 500, "teachers": 40, "students_covered": 500}
    load_rows(
        application,
        "school_stats",
        [
            {"school": school(cluster, "甲校"), "teachers_in_cluster_work": 40, **stats},
            {"school": school(cluster, "乙校"), "teachers_in_cluster_work": 39, **stats},
        ],
    )
    certify(application)
    office = person(Role.DISTRICT_OFFICE, region=cluster.district)
    lead = person(Role.LEAD, cluster=cluster)
    (review,), _skipped = start_yearly_reviews(cluster.district, 2025, by=office)
    evidence = [("总结", SimpleUploadedFile("总结.pdf", pdf_bytes("y"), content_type="application/pdf"))]
    run_review_step(
        review, R.submit_data, lambda: yearly_review.submit(review, by=lead, data_note="概述", evidence=evidence)
    )

    review.refresh_from_db()
    assert review.computed == [
        {
            "code": "C1",
            "title": "计算指标1",
            "display": "98.75%",
            "threshold": review.computed[0]["threshold"],
            "passed": False,
            "missing": "",
        }
    ]
    assert review.computed[0]["threshold"]  # the rule as the standard states it, e.g. "≥ 100%"
    assert review.data_version == data_version(Application.objects.get(pk=application.pk))
    page = client_for(office).get(reverse("work:yearly_review_detail", args=[review.pk])).content.decode()
    assert "计算指标1" in page and "98.75%" in page and "未达标" in page


def test_a_tier_recorded_at_set_up_without_a_certificate_is_reviewed_against_the_standard_in_force():
    mine, _other = two_districts()
    demo = ClusterFactory(district=mine.district, current_tier=Tier.CLOSE_KNIT)
    TierChange.objects.create(
        cluster=demo,
        from_tier=Tier.NONE,
        to_tier=Tier.CLOSE_KNIT,
        reason=TierChange.Reason.INITIAL,
        effective="2024-09-01",
    )
    (review,), _skipped = start_yearly_reviews(mine.district, 2025, by=mine.office)
    assert (review.cluster, review.certificate, review.standard, review.data_application) == (
        demo,
        None,
        Standard.objects.in_force(Tier.CLOSE_KNIT),
        None,
    )
    page = client_for(mine.office).get(reverse("work:yearly_review_detail", args=[review.pk])).content.decode()
    assert "建档时登记的等级" in page


def _awaiting(user):
    page = client_for(user).get(reverse("work:yearly_reviews") + "?awaiting=1").content.decode()
    return page.count('data-test="awaits-me"')


def test_each_persona_sees_the_review_waiting_for_them_at_their_step_only():
    mine, other = two_districts()
    certified(mine)
    certified(other)
    (review,), _skipped = start_yearly_reviews(mine.district, 2025, by=mine.office)
    start_yearly_reviews(other.district, 2025, by=other.office)
    people = {
        "lead": mine.lead,
        "office": mine.office,
        "leader": mine.leader,
        "city_office": mine.city_office,
        "other_lead": other.lead,
    }

    def waiting():
        return {name: _awaiting(user) for name, user in people.items()}

    assert waiting() == {"lead": 1, "office": 0, "leader": 0, "city_office": 0, "other_lead": 1}
    evidence = [("总结", SimpleUploadedFile("总结.pdf", pdf_bytes("y"), content_type="application/pdf"))]
    run_review_step(
        review, R.submit_data, lambda: yearly_review.submit(review, by=mine.lead, data_note="概述", evidence=evidence)
    )
    assert waiting() == {"lead": 0, "office": 1, "leader": 0, "city_office": 0, "other_lead": 1}
    run_review_step(
        review, R.conclude, lambda: yearly_review.conclude(review, "revoke", by=mine.office, reason="材料造假。")
    )
    assert waiting() == {"lead": 0, "office": 0, "leader": 1, "city_office": 0, "other_lead": 1}
    # The full list still shows the review, without the marker, to whoever has no step in it.
    page = client_for(mine.office).get(reverse("work:yearly_reviews")).content.decode()
    assert review.cluster.name in page and 'data-test="awaits-me"' not in page
