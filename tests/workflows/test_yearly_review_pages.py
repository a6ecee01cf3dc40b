"""The yearly review's pages: query counts that do not grow with the rows, the one-action start's scope."""

import pytest
from django.urls import reverse

from certification.domain.certificate import certify
from certification.models import Application, Tier, YearlyReview
from tests.factories import ClusterFactory
from tests.factories.evidence import make_application
from tests.workflows.driver import client_for
from tests.workflows.review_scene import certified, rectifying_review, two_districts
from tests.workflows.work_pages.helpers import count_queries
from workflows.engine import start_yearly_reviews

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
    start_yearly_reviews(mine.district, 2026, by=mine.office)
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
