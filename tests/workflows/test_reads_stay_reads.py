"""Reads stay reads: a GET of a page writes nothing; and 我的申报 reads open applications in a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from viewflow.workflow.models import Task

from certification.domain.notify import notify
from certification.domain.roles import ensure_groups, grant_role
from certification.models import Application, EvidenceRequirement, Notification, Role, ScoreSheet, Tier
from tests.factories import ClusterFactory, MembershipFactory
from tests.factories.work import ApplicationFactory
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for, start
from tests.workflows.work_pages.helpers import count_queries, to_scoring
from workflows.flows import CertificationFlow as F

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture(autouse=True)
def role_groups(db):
    reverse("workflow:inbox")
    return ensure_groups()


def writes_of_get(client, url):
    """The SQL statements that change data, run by one GET of `url` (which must answer 200)."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:2000]
    return [query["sql"] for query in context.captured_queries if query["sql"].lstrip().upper().startswith(WRITES)]


def test_score_sheets_open_when_the_scoring_tasks_start():
    world = build_world(Tier.CLOSE_KNIT)

    application, _process, evaluators = to_scoring(world)

    sheets = ScoreSheet.objects.filter(assignment__application=application)
    assert sorted(sheets.values_list("assignment__evaluator", flat=True)) == sorted(e.pk for e in evaluators)
    assert set(sheets.values_list("status", "saved")) == {(ScoreSheet.Status.DRAFT, None)}


def test_get_of_the_scoring_task_and_the_sheet_page_writes_nothing():
    world = build_world(Tier.CLOSE_KNIT)
    application, process, evaluators = to_scoring(world)
    evaluator = evaluators[1]
    task = Task.objects.get(process=process, flow_task=F.score, owner=evaluator)
    client = client_for(evaluator)
    sheets_before = list(ScoreSheet.objects.order_by("pk").values_list("pk", "updated"))

    task_writes = writes_of_get(client, F.score.reverse("execute", args=[process.pk, task.pk]))
    page_writes = writes_of_get(client, reverse("scoring_sheet", args=[application.pk]))

    assert task_writes == []
    assert page_writes == []
    assert list(ScoreSheet.objects.order_by("pk").values_list("pk", "updated")) == sheets_before


def test_get_of_a_notification_link_follows_it_and_leaves_it_unread():
    world = build_world(Tier.CLOSE_KNIT)
    (notification,) = notify([world.lead], "一", url="/work/applications/")
    client = client_for(world.lead)

    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("work:notification_open", args=[notification.pk]))

    notification.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == "/work/applications/"
    assert notification.read is None
    assert [q for q in context.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)] == []


def test_notification_list_opens_a_notification_through_a_post_form():
    world = build_world(Tier.CLOSE_KNIT)
    (notification,) = notify([world.lead], "请补正材料", url="/work/applications/")
    client = client_for(world.lead)

    page = client.get(reverse("work:notifications")).content.decode()
    response = client.post(reverse("work:notification_open", args=[notification.pk]))

    notification.refresh_from_db()
    assert f'<form method="post" action="{reverse("work:notification_open", args=[notification.pk])}"' in page
    assert response.status_code == 302 and notification.read is not None
    assert Notification.objects.filter(recipient=world.lead, read__isnull=True).count() == 0


def test_get_of_the_dossier_and_the_lists_writes_nothing():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process, _evaluators = to_scoring(world)

    for user, url in (
        (world.lead, reverse("work:mine")),
        (world.lead, reverse("work:application_detail", args=[application.pk])),
        (world.office, reverse("work:office")),
        (world.office, reverse("work:application_list")),
        (world.evaluators[0], reverse("work:reviews")),
    ):
        assert writes_of_get(client_for(user), url) == [], url


def open_application_missing_evidence(world):
    """Another cluster of the world's lead, with an open application that still lacks its required evidence."""
    cluster = ClusterFactory(district=world.district, current_tier=world.cluster.current_tier)
    MembershipFactory(cluster=cluster)
    grant_role(world.lead, Role.LEAD, cluster=cluster)
    return ApplicationFactory(cluster=cluster, standard=world.standard, status=Application.Status.EVIDENCE)


def test_mine_query_count_same_for_1_and_20_open_applications_missing_evidence(django_assert_num_queries):
    world = build_world(Tier.CLOSE_KNIT)
    start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    client = client_for(world.lead)
    url = reverse("work:mine")
    one = count_queries(client, url)
    for _number in range(19):
        open_application_missing_evidence(world)
    required = EvidenceRequirement.objects.filter(indicator__dimension__standard=world.standard, required=True)

    with django_assert_num_queries(one):
        response = client.get(url)

    text = response.content.decode()
    assert text.count('data-test="application"') == 20
    assert required.exists()
    assert text.count(required.order_by("pk").first().title) >= 20
