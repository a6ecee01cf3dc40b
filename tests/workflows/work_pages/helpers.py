"""What the work-page tests share: query counting, page text, and taking applications to a step."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from certification.models import Notification, Role
from tests.factories import ClusterFactory, MembershipFactory
from tests.factories.workflow import person, upload_all_evidence
from tests.workflows.driver import do, score_all, start
from workflows.flows import CertificationFlow as F

FULL = {"A1": 4, "A2": 6}


def count_queries(client, url):
    """Queries one GET of `url` runs, measured after a warm-up request (caches such as content types filled)."""
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def page_text(response):
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def to_formal_review(world, cluster=None, lead=None):
    """Open an application of `cluster` (the world's by default) and submit all three stages, as its lead."""
    cluster, lead = cluster or world.cluster, lead or world.lead
    application, process = start(lead, cluster, world.tier)
    upload_all_evidence(application, lead)
    for node in (F.submit_basic, F.submit_process, F.submit_outcome):
        do(lead, process, node)
    return application, process


def to_scoring(world, cluster=None, lead=None):
    """Pass the formal review and put three of the world's evaluators on the panel (the first leads it)."""
    application, process = to_formal_review(world, cluster, lead)
    do(world.office, process, F.formal_review, {"decision": "pass"})
    evaluators = world.evaluators[:3]
    do(
        world.office,
        process,
        F.assign_evaluators,
        {"evaluators": [e.pk for e in evaluators], "panel_lead": evaluators[0].pk},
    )
    return application, process, evaluators


def to_reconciliation(world):
    """Score with the second evaluator far from the others on A1, so the panel lead has it to reconcile."""
    application, process, evaluators = to_scoring(world)
    apart = {"A1": 1, "A2": 6}
    score_all(application, process, {evaluators[0]: FULL, evaluators[1]: apart, evaluators[2]: FULL})
    application.refresh_from_db()
    return application, process, evaluators


def to_approval(world, cluster=None, lead=None, values=None):
    application, process, evaluators = to_scoring(world, cluster, lead)
    score_all(application, process, dict.fromkeys(evaluators, values or FULL))
    application.refresh_from_db()
    return application, process


def get_with_30(client, url, world, advance, django_assert_num_queries):
    """GET `url` with 30 applications taken to a step by `advance(world, cluster=None, lead=None)`, the world's and
    29 other clusters', asserting it runs the queries it ran with the world's alone; returns that response."""
    advance(world)
    one = count_queries(client, url)
    for _ in range(29):
        cluster, lead = another_cluster(world)
        advance(world, cluster, lead)
    with django_assert_num_queries(one):
        return client.get(url)


def another_cluster(world):
    cluster = ClusterFactory(district=world.district, current_tier=world.cluster.current_tier)
    MembershipFactory(cluster=cluster)
    return cluster, person(Role.LEAD, cluster=cluster)


def new_notification(user, subject, **fields):
    return Notification.objects.create(recipient=user, subject=subject, **fields)
