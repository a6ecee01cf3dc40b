"""The yearly review's panel (Standard.yearly_evaluators), over HTTP by the personas: the office assigns the
evaluators (refused when one is tied to the cluster), each gives an opinion in their own task, the office sees the
opinions and concludes only once all are in. A standard asking for none keeps the office concluding alone."""

import pytest
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from certification.models import AuditEvent, ReviewAssignment, Role, Tier, YearlyReview
from tests.factories.workflow import build_world, person
from tests.workflows.driver import client_for
from tests.workflows.review_driver import post, review_of, start_reviews, submit_review
from tests.workflows.review_scene import certified
from tests.workflows.work_pages.helpers import count_queries
from workflows.flows import YearlyReviewFlow as R
from workflows.models import TaskDeadline, review_process_for

pytestmark = pytest.mark.django_db

YEAR = 2025


def _submitted(world):
    certified(world)
    start_reviews(world.office, world.district, YEAR)
    review = review_of(world.cluster, YEAR)
    submit_review(world.lead, review)
    review.refresh_from_db()
    return review


def _open_tasks(review, node):
    return list(
        Task.objects.filter(process=review_process_for(review), flow_task=node, status=STATUS.NEW).order_by("pk")
    )


def _page(user, review):
    response = client_for(user).get(reverse("work:yearly_review_detail", args=[review.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _snapshot(review):
    return {
        "review": YearlyReview.objects.filter(pk=review.pk).values_list("status", "conclusion").get(),
        "panel": sorted(ReviewAssignment.objects.values_list("pk", "evaluator_id", "opinion", "given")),
        "tasks": sorted(Task.objects.values_list("pk", "status")),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def panel_world(db):
    return build_world(Tier.DISTRICT_MODEL, evaluators=3, yearly_evaluators=2)


def test_panel_of_two_gives_opinions_then_the_office_concludes(panel_world):
    world = panel_world
    review = _submitted(world)
    assert review.status == YearlyReview.Status.ASSIGNMENT
    # The office's step is the panel now, due like the other steps; nobody may conclude yet.
    (assign_task,) = _open_tasks(review, R.assign_panel)
    assert TaskDeadline.objects.get(task=assign_task).working_days == 5
    assert _open_tasks(review, R.conclude) == []
    office_page = _page(world.office, review)
    assert 'data-test="panel-form"' in office_page and 'data-test="conclude"' not in office_page
    assert "成员校专家" in office_page  # the tied evaluator is listed with the reason, and disabled

    first, second = world.evaluators[:2]
    post(world.office, "yearly_review_panel", review.pk, {"evaluators": [first.pk, second.pk]})
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.PANEL
    assert sorted(review.panel.values_list("evaluator_id", flat=True)) == [first.pk, second.pk]
    tasks = _open_tasks(review, R.give_opinion)
    assert sorted(task.owner_id for task in tasks) == [first.pk, second.pk]
    assert {TaskDeadline.objects.get(task=task).working_days for task in tasks} == {10}
    assert AuditEvent.objects.filter(action="yearly_review.evaluator_assigned", object_id=str(review.pk)).count() == 2
    assert AuditEvent.objects.filter(action="yearly_review.panel_assigned", object_id=str(review.pk)).count() == 1

    # Each evaluator finds the review in their 评审任务 and sees only their own row of the panel.
    reviews_page = client_for(first).get(reverse("work:reviews")).content.decode()
    assert f'data-review="{review.pk}"' in reviews_page and 'data-test="give-opinion"' in reviews_page
    first_page = _page(first, review)
    assert 'data-test="opinion-form"' in first_page and second.display_name not in first_page

    post(first, "yearly_review_opinion", review.pk, {"opinion": "rectify", "reason": "课程共享数量未增加"})
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.PANEL
    # One opinion is not enough: the flow's join holds the conclusion task back, and the office cannot conclude by
    # the page or by a forged post.
    assert _open_tasks(review, R.conclude) == []
    assert 'data-test="conclude"' not in _page(world.office, review)
    post(world.office, "yearly_review_conclude", review.pk, {"conclusion": "maintained"}, expect=409)
    # The evaluator cannot give a second opinion.
    post(first, "yearly_review_opinion", review.pk, {"opinion": "revoke", "reason": "再改"}, expect=409)

    post(second, "yearly_review_opinion", review.pk, {"opinion": "maintained", "reason": "各项指标达标"})
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.CONCLUSION
    assert list(review.panel.order_by("evaluator_id").values_list("opinion", "opinion_reason")) == [
        ("rectify", "课程共享数量未增加"),
        ("maintained", "各项指标达标"),
    ]
    assert _open_tasks(review, R.give_opinion) == []
    assert len(_open_tasks(review, R.conclude)) == 1
    assert AuditEvent.objects.filter(action="yearly_review.opinion_given", object_id=str(review.pk)).count() == 2

    # The office's conclusion shows both opinions with their reasons, then the office concludes.
    office_page = _page(world.office, review)
    conclude_card = office_page[office_page.index('data-test="conclude"') :]
    for text in (first.display_name, "限期整改", "课程共享数量未增加", second.display_name, "各项指标达标"):
        assert text in conclude_card
    post(world.office, "yearly_review_conclude", review.pk, {"conclusion": "maintained"})
    review.refresh_from_db()
    assert (review.status, review.outcome) == (YearlyReview.Status.CLOSED, YearlyReview.Outcome.MAINTAINED)
    # The leader sees the panel and its opinions on the dossier too.
    leader_page = _page(world.leader, review)
    assert "课程共享数量未增加" in leader_page and "各项指标达标" in leader_page


def test_an_evaluator_tied_to_the_cluster_is_refused_and_nothing_changes(panel_world):
    world = panel_world
    review = _submitted(world)
    before = _snapshot(review)
    response = client_for(world.office).post(
        reverse("work:yearly_review_panel", args=[review.pk]),
        {"evaluators": [world.evaluators[0].pk, world.tied_evaluator.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "不能指派" in page and "成员校" in page and world.cluster.name in page
    assert _snapshot(review) == before
    assert len(_open_tasks(review, R.assign_panel)) == 1


def test_fewer_evaluators_than_the_standard_asks_for_are_refused(panel_world):
    world = panel_world
    review = _submitted(world)
    before = _snapshot(review)
    response = client_for(world.office).post(
        reverse("work:yearly_review_panel", args=[review.pk]), {"evaluators": [world.evaluators[0].pk]}, follow=True
    )
    assert "至少指派 2 位" in response.content.decode()
    assert _snapshot(review) == before


def test_an_evaluator_cannot_act_on_another_review_or_another_evaluators_opinion(panel_world):
    world = panel_world
    review = _submitted(world)
    post(world.office, "yearly_review_panel", review.pk, {"evaluators": [e.pk for e in world.evaluators[:2]]})
    # Another district's review, with its own panel.
    other = build_world(Tier.DISTRICT_MODEL, evaluators=2, yearly_evaluators=2, city=world.city)
    other_review = _submitted(other)
    post(other.office, "yearly_review_panel", other_review.pk, {"evaluators": [e.pk for e in other.evaluators]})
    outsider = world.evaluators[2]  # holds the role, on no panel of this review
    before = _snapshot(review)
    client = client_for(world.evaluators[0])
    assert client.get(reverse("work:yearly_review_detail", args=[other_review.pk])).status_code == 404
    data = {"opinion": "revoke", "reason": "越权"}
    assert client.post(reverse("work:yearly_review_opinion", args=[other_review.pk]), data).status_code == 404
    assert client_for(outsider).post(reverse("work:yearly_review_opinion", args=[review.pk]), data).status_code == 404
    # The office of the review may not give an evaluator's opinion.
    assert (
        client_for(world.office).post(reverse("work:yearly_review_opinion", args=[review.pk]), data).status_code == 403
    )
    assert _snapshot(review) == before


def test_a_standard_asking_for_no_evaluators_keeps_the_office_concluding_alone(db):
    world = build_world(Tier.DISTRICT_MODEL, evaluators=1)
    review = _submitted(world)
    assert review.status == YearlyReview.Status.CONCLUSION
    assert _open_tasks(review, R.assign_panel) == [] and len(_open_tasks(review, R.conclude)) == 1
    page = _page(world.office, review)
    assert 'data-test="conclude"' in page and 'data-test="review-panel"' not in page
    post(world.office, "yearly_review_conclude", review.pk, {"conclusion": "maintained"})
    review.refresh_from_db()
    assert review.status == YearlyReview.Status.CLOSED
    assert not ReviewAssignment.objects.exists()


def test_review_tasks_list_runs_the_same_queries_for_one_and_many_panels(db):
    evaluator = person(Role.EVALUATOR, display_name="专家甲")

    def seat(count):
        for _n in range(count):
            world = build_world(Tier.DISTRICT_MODEL, evaluators=0, yearly_evaluators=1)
            review = _submitted(world)
            post(world.office, "yearly_review_panel", review.pk, {"evaluators": [evaluator.pk]})

    client = client_for(evaluator)
    url = reverse("work:reviews")
    seat(1)
    one = count_queries(client, url)
    assert client.get(url).content.decode().count("data-review=") == 1
    seat(3)
    assert count_queries(client, url) == one
    assert client.get(url).content.decode().count("data-review=") == 4
