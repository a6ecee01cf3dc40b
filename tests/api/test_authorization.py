"""The authorization matrix over every API route that takes an application or a task: each role of one district,
against the objects of another city, is refused (403/404) and nothing changes. Lists never show them.

The routes are read from the live schema, so a route added without a row here fails the coverage test.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from viewflow.workflow.models import Task

from certification.domain.datasets import start_import
from certification.domain.roles import grant_role
from certification.models import (
    Application,
    AuditEvent,
    ClusterMembership,
    DatasetImport,
    EvidenceFile,
    Objection,
    Role,
    Tier,
)
from tests.factories import CityFactory, ClusterFactory, SchoolFactory
from tests.factories.datasets import computed_standard, data_application, workbook_bytes, xlsx_upload
from tests.factories.evidence import pdf_bytes
from tests.factories.workflow import build_world, upload_all_evidence
from tests.workflows.driver import start

from .conftest import api_as

pytestmark = pytest.mark.django_db

ROLES = ("lead", "office", "leader", "city_office", "city_leader", "evaluator", "tied_evaluator")


def _pdf():
    return SimpleUploadedFile("章程.pdf", pdf_bytes("越权"), content_type="application/pdf")


def _xlsx():
    return SimpleUploadedFile("数据.xlsx", workbook_bytes("rotation", []), content_type="application/octet-stream")


# (method, schema path, path arguments from the target, body, body format)
MATRIX = [
    ("get", "/api/v1/applications/{id}/", lambda t: {"id": t["app"]}, None, None),
    ("post", "/api/v1/applications/{id}/objections/", lambda t: {"id": t["app"]}, {"text": "异议"}, "json"),
    (
        "post",
        "/api/v1/applications/{id}/objections/resolve/",
        lambda t: {"id": t["app"]},
        {"objection": 1, "outcome": "upheld", "resolution": "成立"},
        "json",
    ),
    ("get", "/api/v1/applications/{application_pk}/requirements/", lambda t: {"application_pk": t["app"]}, None, None),
    ("get", "/api/v1/applications/{application_pk}/evidence/", lambda t: {"application_pk": t["app"]}, None, None),
    (
        "get",
        "/api/v1/applications/{application_pk}/evidence/{id}/",
        lambda t: {"application_pk": t["app"], "id": t["file"]},
        None,
        None,
    ),
    (
        "get",
        "/api/v1/applications/{application_pk}/evidence/{id}/download/",
        lambda t: {"application_pk": t["app"], "id": t["file"]},
        None,
        None,
    ),
    (
        "post",
        "/api/v1/applications/{application_pk}/evidence/{id}/withdraw/",
        lambda t: {"application_pk": t["app"], "id": t["file"]},
        {"reason": "越权撤回"},
        "json",
    ),
    (
        "post",
        "/api/v1/applications/{application_pk}/requirements/{requirement_pk}/upload/",
        lambda t: {"application_pk": t["app"], "requirement_pk": t["requirement"]},
        lambda: {"file": _pdf()},
        "multipart",
    ),
    (
        "get",
        "/api/v1/applications/{application_pk}/dataset-imports/",
        lambda t: {"application_pk": t["data_app"]},
        None,
        None,
    ),
    (
        "get",
        "/api/v1/applications/{application_pk}/dataset-imports/{id}/",
        lambda t: {"application_pk": t["data_app"], "id": t["import"]},
        None,
        None,
    ),
    (
        "post",
        "/api/v1/applications/{application_pk}/datasets/{code}/upload/",
        lambda t: {"application_pk": t["data_app"], "code": "rotation"},
        lambda: {"file": _xlsx()},
        "multipart",
    ),
    (
        "post",
        "/api/v1/applications/{application_pk}/datasets/{code}/rows/",
        lambda t: {"application_pk": t["data_app"], "code": "rotation"},
        {"rows": [{"teacher": "越权"}]},
        "json",
    ),
    (
        "get",
        "/api/v1/applications/{application_pk}/datasets/{code}/template/",
        lambda t: {"application_pk": t["data_app"], "code": "rotation"},
        None,
        None,
    ),
    ("get", "/api/v1/applications/{application_pk}/computed/", lambda t: {"application_pk": t["data_app"]}, None, None),
    ("get", "/api/v1/tasks/{id}/", lambda t: {"id": t["task"]}, None, None),
    ("post", "/api/v1/tasks/{id}/claim/", lambda t: {"id": t["task"]}, None, None),
    ("post", "/api/v1/tasks/{id}/complete/", lambda t: {"id": t["task"]}, {"decision": "pass"}, "json"),
]


@pytest.fixture
def home():
    """The people of 上海市's district; every role, and two evaluators (one tied to their own cluster)."""
    world = build_world(Tier.CLOSE_KNIT)
    people = dict(world.people())
    people["evaluator"] = world.evaluators[0]
    people["tied_evaluator"] = world.tied_evaluator
    return world, people


@pytest.fixture
def target():
    """Another city's application (evidence uploaded, its stage tasks open) and a data application with an import."""
    world = build_world(Tier.CLOSE_KNIT, city=CityFactory(name="厦门市"))
    application, process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    cluster = ClusterFactory(district=world.district)
    for role in (ClusterMembership.Role.LEAD, ClusterMembership.Role.MEMBER):
        ClusterMembership.objects.create(cluster=cluster, school=SchoolFactory(district=world.district), role=role)
    grant_role(world.lead, Role.LEAD, cluster=cluster)
    data = data_application(cluster, computed_standard(("backbone_share_same_stage", "gte", "0.20")))
    dataset_import = start_import(data, "rotation", xlsx_upload(workbook_bytes("rotation", [])), by=world.lead)
    return {
        "app": application.pk,
        "data_app": data.pk,
        "file": EvidenceFile.objects.filter(application=application).order_by("pk").first().pk,
        "requirement": EvidenceFile.objects.filter(application=application).order_by("pk").first().requirement_id,
        "import": dataset_import.pk,
        "task": Task.objects.filter(process=process, status__in=["NEW", "ASSIGNED"]).order_by("pk").first().pk,
    }


def _state():
    return (
        AuditEvent.objects.count(),
        EvidenceFile.objects.count(),
        EvidenceFile.objects.exclude(withdrawn=None).count(),
        DatasetImport.objects.count(),
        Objection.objects.count(),
        sorted(Task.objects.values_list("pk", "status", "owner_id")),
        sorted(Application.objects.values_list("pk", "status")),
    )


def test_matrix_covers_every_route_that_takes_an_application_or_a_task():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    scoped = {
        (method, path)
        for path, operations in schema["paths"].items()
        if "{application_pk}" in path or path.startswith(("/api/v1/applications/{id}", "/api/v1/tasks/{id}"))
        for method in operations
    }

    assert scoped == {(method, path) for method, path, *_rest in MATRIX}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_is_refused_on_another_citys_objects_and_nothing_changes(home, target, role):
    _world, people = home
    client = api_as(people[role])
    before = _state()

    outcomes = {}
    for method, path, arguments, body, body_format in MATRIX:
        url = path.format(**arguments(target))
        data = body() if callable(body) else body
        response = getattr(client, method)(url, data, format=body_format) if data else getattr(client, method)(url)
        outcomes[(method, path)] = response.status_code
        if response.status_code in (403, 404):
            assert response.json()["code"] in {"not_found", "not_allowed", "permission_denied"}
            # A refusal names nothing of the other city's application.
            assert "厦门" not in response.content.decode()

    assert {key: status for key, status in outcomes.items() if status not in (403, 404)} == {}
    assert _state() == before


@pytest.mark.parametrize("role", ROLES)
def test_lists_never_show_another_citys_applications_or_tasks(home, target, role):
    _world, people = home
    client = api_as(people[role])

    applications = client.get("/api/v1/applications/").json()["results"]
    tasks = client.get("/api/v1/tasks/").json()["results"]

    assert target["app"] not in {item["id"] for item in applications}
    assert target["data_app"] not in {item["id"] for item in applications}
    assert target["task"] not in {item["id"] for item in tasks}


def test_a_lead_cannot_open_an_application_for_a_cluster_they_do_not_lead(home, target):
    _world, people = home
    other_cluster = Application.objects.get(pk=target["app"]).cluster
    client = api_as(people["lead"])
    before = _state()

    response = client.post("/api/v1/applications/", {"cluster": other_cluster.pk, "target_tier": "close_knit"})

    # The start page's own form refuses it: a choice outside the lead's clusters names the field.
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["cluster"]
    assert _state() == before


@pytest.mark.parametrize("role", [role for role in ROLES if role != "lead"])
def test_only_leads_open_applications(home, role):
    world, people = home
    client = api_as(people[role])
    before = _state()

    response = client.post("/api/v1/applications/", {"cluster": world.cluster.pk, "target_tier": "close_knit"})

    assert response.status_code == 403
    assert _state() == before


@pytest.fixture
def home_objects(home):
    """In the home district: the lead's application with its files, and a data application of another cluster."""
    world, people = home
    application, _process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    upload_all_evidence(application, world.lead)
    cluster = ClusterFactory(district=world.district)
    for role in (ClusterMembership.Role.LEAD, ClusterMembership.Role.MEMBER):
        ClusterMembership.objects.create(cluster=cluster, school=SchoolFactory(district=world.district), role=role)
    grant_role(world.lead, Role.LEAD, cluster=cluster)
    data = data_application(cluster, computed_standard(("backbone_share_same_stage", "gte", "0.20")))
    return people, application, data


@pytest.mark.parametrize("role", [role for role in ROLES if role != "lead"])
def test_in_scope_roles_other_than_the_lead_may_not_withdraw_evidence_or_import_rows(home_objects, role):
    people, application, data = home_objects
    client = api_as(people[role])
    evidence_file = EvidenceFile.objects.filter(application=application).order_by("pk").first()
    before = _state()

    withdraw = client.post(
        f"/api/v1/applications/{application.pk}/evidence/{evidence_file.pk}/withdraw/",
        {"reason": "不该我撤"},
        format="json",
    )
    rows = client.post(f"/api/v1/applications/{data.pk}/datasets/rotation/rows/", {"rows": []}, format="json")

    # Who sees the application is refused as on the page (403, the page's message); who does not, 404.
    for response in (withdraw, rows):
        assert response.status_code in (403, 404), response.json()
        if response.status_code == 403:
            assert response.json() == {
                "code": "not_allowed",
                "message": "只有本学区/集团的负责人可以为本申请上传或撤回佐证材料。",
            }
    if role in ("office", "leader"):
        assert (withdraw.status_code, rows.status_code) == (403, 403)
    assert _state() == before
