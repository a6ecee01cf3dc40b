"""The queues and lists at scale: one page of rows, filters and search, "共 N 条", the same queries for 1 and 200.

Every page that shows tasks or applications is measured with one application, then with 200 (bulk clones of the
first, `tests.factories.bulk`), unfiltered, on page 2 and with each filter; the counts must be equal and ≤ 20.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certification.domain.roles import ensure_groups
from certification.models import Application, ClusterMembership, CorrectionRequest, Tier
from tests.factories import ClusterFactory
from tests.factories.bulk import clone_applications
from tests.factories.work import ApplicationFactory
from tests.factories.workflow import build_world
from tests.workflows.driver import client_for, open_task, take
from tests.workflows.work_pages.helpers import to_approval, to_formal_review
from workflows.flows import CertificationFlow as F
from workflows.queues import PAGE_SIZE
from workflows.work import open_tasks

pytestmark = [pytest.mark.django_db]

QUERY_LIMIT = 20


@pytest.fixture(autouse=True)
def role_groups(db):
    reverse("workflow:inbox")
    return ensure_groups()


def measure(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:3000]
    return len(context.captured_queries), response.content.decode(), context.captured_queries


def filter_queries(world, application, *, stages=False):
    """A query string per filter (and page 2, and a sort); each keeps the template application among its rows."""
    queries = {
        "plain": "",
        "page 2": "page=2",
        "district": f"district={world.district.pk}",
        "tier": f"tier={application.target_tier}",
        "status": f"status={application.status}",
        "search": f"q={application.cluster.name[:4]}",
        "overdue": "overdue=on",
        "waiting": f"waiting_before={timezone.localdate() + timedelta(days=1):%Y-%m-%d}",
        "sort": "order=-cluster_name",
        "due": "order=due",
        "all": f"district={world.district.pk}&tier={application.target_tier}&q=x&overdue=on&order=tier",
    }
    if stages:
        queries["step"] = f"stage={F.district_decision}"
    return queries


def assert_constant(client, base, queries, grow):
    """Queries of each `base?query` are equal before and after `grow()`, and at most QUERY_LIMIT."""
    before = {name: measure(client, f"{base}?{query}")[0] for name, query in queries.items()}
    grow()
    after = {name: measure(client, f"{base}?{query}")[0] for name, query in queries.items()}
    assert after == before
    assert max(after.values()) <= QUERY_LIMIT, after
    return after


def grow_to_200(application):
    return lambda: clone_applications(application, 199)


def test_approval_queue_constant_queries_one_page_and_total():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_approval(world)
    client = client_for(world.leader)
    url = reverse("work:approvals")

    assert_constant(client, url, filter_queries(world, application, stages=True), grow_to_200(application))

    _count, text, captured = measure(client, url)
    assert text.count("<tr data-application=") == PAGE_SIZE
    assert "共 200 条" in text
    # No statement lists the applications in scope: the longest is as long at 200 as at 400 applications.
    longest = max(len(query["sql"]) for query in captured)
    clone_applications(application, 200)
    assert max(len(query["sql"]) for query in measure(client, url)[2]) == longest


def test_office_desk_constant_queries():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_formal_review(world)
    client = client_for(world.office)
    url = reverse("work:office")
    queries = filter_queries(world, application, stages=True)
    queries["step"] = f"stage={F.formal_review}"

    assert_constant(client, url, queries, grow_to_200(application))

    text = measure(client, url)[1]
    assert text.count("<tr data-application=") == PAGE_SIZE
    assert "共 200 条" in text


def test_reviews_constant_queries():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_approval(world)
    client = client_for(world.evaluators[0])
    url = reverse("work:reviews")

    assert_constant(client, url, filter_queries(world, application), grow_to_200(application))

    text = measure(client, url)[1]
    assert text.count("<tr data-application=") == PAGE_SIZE
    assert "共 200 条" in text


def test_application_list_constant_queries():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_formal_review(world)
    client = client_for(world.office)
    url = reverse("work:application_list")

    assert_constant(client, url, filter_queries(world, application), grow_to_200(application))

    text = measure(client, url)[1]
    assert text.count("<tr data-application=") == PAGE_SIZE
    assert "共 200 条" in text


@pytest.mark.parametrize("page", ["workflow:inbox", "workflow:queue", "workflow:archive"])
def test_viewflow_task_lists_constant_queries(page):
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_formal_review(world)
    office = world.office
    # One task of the office's in its inbox (taken), the rest in its queue; the lead's finished tasks archived.
    client = client_for(office)
    url = reverse(page)

    assert_constant(client, url, {"plain": "", "page 2": "page=2"}, grow_to_200(application))

    longest = max(len(query["sql"]) for query in measure(client, url)[2])
    clone_applications(application, 200)
    assert max(len(query["sql"]) for query in measure(client, url)[2]) == longest


def test_approval_task_page_constant_queries():
    """The leader's decision form (the approval task page) runs the same queries beside 1 and 200 applications
    awaiting a decision in the district, at most 20."""
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_approval(world)
    decision = open_task(process, F.district_decision)
    take(world.leader, decision)
    url = F.district_decision.reverse("execute", args=[process.pk, decision.pk])

    assert_constant(client_for(world.leader), url, {"plain": ""}, grow_to_200(application))


def test_viewflow_queue_lists_the_office_tasks_and_menu_counts_them():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_formal_review(world)
    clone_applications(application, 29)
    other = build_world(Tier.CLOSE_KNIT, city=world.city)
    to_formal_review(other)

    text = measure(client_for(world.office), reverse("workflow:queue"))[1]

    assert text.count(str(F.formal_review.task_title)) >= 25
    assert ">30<" in text.replace(" ", "").replace("\n", "")


def test_page_tasks_look_each_permission_up_and_keep_the_rule():
    """A page's tasks (`work.open_tasks`) check the user's object permission task by task: a scalar subquery, which
    PostgreSQL never hashes, where an EXISTS let it hash every permission the user holds (10,000 for a district's
    office at city scale) to check 25 tasks. The rule is unchanged: the office of another district sees none."""
    world = build_world(Tier.CLOSE_KNIT)
    application, process = to_formal_review(world)
    other = build_world(Tier.CLOSE_KNIT, city=world.city)
    review = open_task(process, F.formal_review)

    with CaptureQueriesContext(connection) as context:
        tasks = open_tasks(world.office, [application.pk])

    assert {pk: [task.pk for task in items] for pk, items in tasks.items()} == {application.pk: [review.pk]}
    (statement,) = [
        query["sql"] for query in context.captured_queries if "guardian_userobjectpermission" in query["sql"]
    ]
    assert "EXISTS" not in statement.upper()
    assert open_tasks(other.office, [application.pk]) == {}


# ------------------------------------------------------------------------------------------- what the filters do


def rows_of(client, url):
    text = measure(client, url)[1]
    return {int(part.split('"')[1]) for part in text.split("<tr data-application=")[1:]}


def test_application_list_filters_search_and_sort():
    world = build_world(Tier.CLOSE_KNIT)
    formal, _process = to_formal_review(world)
    cluster = ClusterFactory(district=world.district, name="实验学区")
    certified = ApplicationFactory(cluster=cluster, standard=world.standard, status=Application.Status.CERTIFIED)
    ClusterMembership.objects.create(cluster=cluster, school=world.member_school)
    other = build_world(Tier.CLOSE_KNIT, city=world.city)
    outside = ApplicationFactory(cluster=other.cluster, standard=other.standard)
    CorrectionRequest.objects.create(
        application=formal, comment="补", deadline=timezone.localdate() - timedelta(days=1), created_by=world.office
    )
    client = client_for(world.city_office)
    url = reverse("work:application_list")

    assert rows_of(client, url) == {formal.pk, certified.pk, outside.pk}
    assert rows_of(client, f"{url}?district={world.district.pk}") == {formal.pk, certified.pk}
    assert rows_of(client, f"{url}?status=certified") == {certified.pk}
    assert rows_of(client, f"{url}?q=实验") == {certified.pk}
    assert rows_of(client, f"{url}?q={world.member_school.name}") == {formal.pk, certified.pk}
    assert rows_of(client, f"{url}?overdue=on") == {formal.pk}
    assert rows_of(client, f"{url}?waiting_before=2000-01-01") == set()
    text = measure(client, f"{url}?order=cluster_name")[1]
    names = sorted([formal.cluster.name, "实验学区", other.cluster.name])
    positions = [text.index(f">{name}</a>") for name in names]
    assert positions == sorted(positions)


def test_application_list_search_finds_certificate_serial():
    from certification.models import Certificate

    world = build_world(Tier.CLOSE_KNIT)
    certified = ApplicationFactory(cluster=world.cluster, standard=world.standard, status="certified")
    Certificate.objects.create(
        application=certified,
        cluster=world.cluster,
        serial="XQ-2026-00042",
        tier=Tier.CLOSE_KNIT,
        standard=world.standard,
        issued=timezone.localdate(),
        valid_until=timezone.localdate() + timedelta(days=1000),
        check_code="0" * 64,
    )
    other = ApplicationFactory(cluster=ClusterFactory(district=world.district), standard=world.standard)

    rows = rows_of(client_for(world.office), f"{reverse('work:application_list')}?q=00042")

    assert rows == {certified.pk}
    assert other.pk not in rows


def test_approval_queue_filters_by_step_and_shows_chinese_labels():
    world = build_world(Tier.CLOSE_KNIT)
    application, _process = to_approval(world)
    client = client_for(world.leader)
    url = reverse("work:approvals")

    assert rows_of(client, f"{url}?stage={F.district_decision}") == {application.pk}
    assert rows_of(client, f"{url}?stage={F.formal_review}") == set()
    text = measure(client, url)[1]
    for label in ("搜索", "区", "等级", "状态", "已逾期", "等待起始不晚于", "排序", "环节", "筛选", "共 1 条"):
        assert label in text, label
    assert "descending" not in text


def test_invalid_filter_value_is_shown_not_a_server_error():
    world = build_world(Tier.CLOSE_KNIT)
    to_formal_review(world)

    response = client_for(world.office).get(f"{reverse('work:application_list')}?waiting_before=yesterday")

    assert response.status_code == 200
    assert "有效的日期" in response.content.decode()
