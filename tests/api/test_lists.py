"""Every list: paginated with a count, filtered, ordered, and the same number of queries for 1 and for many rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certification.domain.datasets import start_import
from certification.domain.evidence import upload_evidence
from certification.domain.roles import grant_role
from certification.models import ClusterMembership, Role, Tier
from tests.factories import ClusterFactory, MembershipFactory, SchoolFactory
from tests.factories.datasets import computed_standard, data_application, workbook_bytes, xlsx_upload
from tests.factories.evidence import pdf_bytes, upload
from tests.factories.workflow import build_world
from tests.workflows.driver import start

from .conftest import api_as

pytestmark = pytest.mark.django_db


def _warm(client):
    """The token's first request records its use: measure after it."""
    assert client.get("/api/v1/regions/").status_code == 200
    return client


def _queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(context.captured_queries), response.json()["count"]


@pytest.fixture
def world():
    world = build_world(Tier.CLOSE_KNIT)
    world.application, world.process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    return world


def _more_clusters(world, n):
    for _ in range(n):
        cluster = ClusterFactory(district=world.district)
        MembershipFactory(cluster=cluster)
        grant_role(world.lead, Role.LEAD, cluster=cluster)


def _data_application(world):
    cluster = ClusterFactory(district=world.district)
    for role in (ClusterMembership.Role.LEAD, ClusterMembership.Role.MEMBER):
        ClusterMembership.objects.create(cluster=cluster, school=SchoolFactory(district=world.district), role=role)
    grant_role(world.lead, Role.LEAD, cluster=cluster)
    return data_application(cluster, computed_standard(("backbone_share_same_stage", "gte", "0.20")))


def test_applications_and_clusters_run_the_same_queries_for_one_and_many(world):
    client = _warm(api_as(world.lead))
    one = {url: _queries(client, url) for url in ("/api/v1/applications/", "/api/v1/clusters/", "/api/v1/schools/")}

    _more_clusters(world, 4)
    for cluster in world.lead.role_grants.exclude(cluster=world.cluster).values_list("cluster", flat=True):
        start(world.lead, type(world.cluster).objects.get(pk=cluster), Tier.CLOSE_KNIT)
    many = {url: _queries(client, url) for url in one}

    assert {url: count for url, (_n, count) in one.items()} == {
        "/api/v1/applications/": 1,
        "/api/v1/clusters/": 1,
        "/api/v1/schools/": 1,
    }
    assert {url: count for url, (_n, count) in many.items()} == {
        "/api/v1/applications/": 5,
        "/api/v1/clusters/": 5,
        "/api/v1/schools/": 5,
    }
    assert {url: n for url, (n, _count) in one.items()} == {url: n for url, (n, _count) in many.items()}


def test_evidence_requirements_tasks_and_imports_run_the_same_queries_for_one_and_many(world):
    client = _warm(api_as(world.lead))
    data = _data_application(world)
    requirement = world.standard.indicators().get(code="A1").evidence_requirements.get()
    upload_evidence(world.application, requirement, upload(pdf_bytes("1"), "1.pdf"), by=world.lead)
    start_import(data, "rotation", xlsx_upload(workbook_bytes("rotation", [])), by=world.lead)
    urls = [
        f"/api/v1/applications/{world.application.pk}/evidence/",
        f"/api/v1/applications/{data.pk}/dataset-imports/",
        "/api/v1/tasks/",
    ]
    one = [_queries(client, url) for url in urls]

    for n in range(4):
        upload_evidence(world.application, requirement, upload(pdf_bytes(str(n)), f"{n}.pdf"), by=world.lead)
        start_import(data, "rotation", xlsx_upload(workbook_bytes("rotation", [[str(n)]])), by=world.lead)
    other = ClusterFactory(district=world.district)
    MembershipFactory(cluster=other)
    grant_role(world.lead, Role.LEAD, cluster=other)
    start(world.lead, other, Tier.CLOSE_KNIT)
    many = [_queries(client, url) for url in urls]

    assert [count for _n, count in one] == [1, 1, 3]
    assert [count for _n, count in many] == [5, 5, 6]
    assert [n for n, _count in one] == [n for n, _count in many]


def test_lists_filter_order_and_paginate(world):
    client = api_as(world.lead)
    _more_clusters(world, 3)

    page = client.get("/api/v1/clusters/", {"district": world.district.pk, "ordering": "-id", "page_size": 2})
    filtered = client.get("/api/v1/applications/", {"status": "certified"})
    bad = client.get("/api/v1/clusters/", {"district": "x"})

    ids = sorted(ClusterFactory._meta.model.objects.filter(district=world.district).values_list("pk", flat=True))
    assert page.json()["count"] == 4
    assert [item["id"] for item in page.json()["results"]] == ids[::-1][:2]
    assert page.json()["next"].endswith("page=2&page_size=2")
    assert filtered.json()["count"] == 0
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    assert list(bad.json()["fields"]) == ["district"]
