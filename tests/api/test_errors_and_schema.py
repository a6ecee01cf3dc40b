"""The schema (Chinese descriptions everywhere, documentation from our static files) and the error bodies: domain
refusals with the pages' Chinese message, validation errors naming the field, workbook errors by sheet/row/column."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

from certification.domain.roles import grant_role
from certification.models import ClusterMembership, DatasetImport, EvidenceFile, Role, Tier
from tests.factories import ClusterFactory, SchoolFactory
from tests.factories.datasets import computed_standard, data_application, workbook_bytes
from tests.factories.evidence import exe_bytes, pdf_bytes
from tests.factories.workflow import build_world
from tests.workflows.driver import start

from .conftest import api_as

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def world():
    world = build_world(Tier.CLOSE_KNIT)
    world.application, world.process = start(world.lead, world.cluster, Tier.CLOSE_KNIT)
    return world


def _properties(schema):
    for name, component in schema["components"]["schemas"].items():
        for field, spec in component.get("properties", {}).items():
            yield f"{name}.{field}", spec


def test_every_operation_and_field_has_a_chinese_description():
    with translation.override("zh-hans"):
        schema = SchemaGenerator().get_schema(request=None, public=True)

    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert len(operations) == 30
    assert [op["operationId"] for op in operations if not CHINESE.search(op.get("summary", ""))] == []
    assert {tag for op in operations for tag in op["tags"]} == {
        "区域",
        "学校",
        "学区/集团",
        "评估标准",
        "申报",
        "我的任务",
        "证书",
    }
    assert [name for name, spec in _properties(schema) if not CHINESE.search(spec.get("description", ""))] == []
    parameters = [p for op in operations for p in op.get("parameters", [])]
    assert [p["name"] for p in parameters if not CHINESE.search(p.get("description", ""))] == []


def test_links_lead_from_responses_to_operations_that_take_those_parameters():
    with translation.override("zh-hans"):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {op["operationId"]: op for path in schema["paths"].values() for op in path.values()}
    links = {
        (source, status, name): link
        for source, op in operations.items()
        for status, response in op["responses"].items()
        for name, link in response.get("links", {}).items()
    }

    for (source, _status, name), link in links.items():
        target = operations[link["operationId"]]
        taken = {(p["in"], p["name"]) for p in target.get("parameters", [])}
        for key, expression in link["parameters"].items():
            where, _dot, parameter = key.rpartition(".")
            assert (where or "path", parameter) in taken, (source, name, key)
            assert expression.startswith(("$response.body#/", "$request.path.")), (source, name, expression)
        assert CHINESE.search(link["description"]), (source, name)
    opened = {
        name: link["operationId"] for (source, status, name), link in links.items() if source == "applications_create"
    }
    assert opened["evidence"] == "applications_evidence_list"
    assert opened["tasks"] == "tasks_list"
    assert {link["operationId"] for (source, *_rest), link in links.items() if source == "tasks_list"} >= {
        "tasks_claim_create",
        "tasks_complete_create",
    }
    assert links[("applications_evidence_list", "200", "withdraw")]["parameters"] == {
        "application_pk": "$request.path.application_pk",
        "id": "$response.body#/results/0/id",
    }


def test_schema_and_documentation_pages_are_served_from_our_static_files(user):
    client = Client()
    client.force_login(user)

    schema = client.get("/api/v1/schema/")
    docs = client.get("/api/v1/docs/").content.decode()
    redoc = client.get("/api/v1/redoc/").content.decode()

    assert schema.status_code == 200 and b"openapi: 3.0.3" in schema.content
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in redoc
    assert not re.search(r"(src|href)=\"https?://", docs + redoc)


def test_domain_refusal_answers_the_pages_status_code_and_chinese_message(world):
    client = api_as(world.lead)
    task = client.get("/api/v1/tasks/", {"node": "submit_basic"}).json()["results"][0]
    client.post(f"/api/v1/tasks/{task['id']}/claim/")

    response = client.post(f"/api/v1/tasks/{task['id']}/complete/", {}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "code": "illegal_transition",
        "message": "“基础材料”还不能提交，请先上传以下必需材料：学区章程",
    }


def test_task_form_errors_name_the_field(world):
    from tests.factories.workflow import upload_all_evidence

    upload_all_evidence(world.application, world.lead)
    lead = api_as(world.lead)
    for node in ("submit_basic", "submit_process", "submit_outcome"):
        task = lead.get("/api/v1/tasks/", {"node": node}).json()["results"][0]
        lead.post(f"/api/v1/tasks/{task['id']}/claim/")
        assert lead.post(f"/api/v1/tasks/{task['id']}/complete/").status_code == 200
    office = api_as(world.office)
    task = office.get("/api/v1/tasks/", {"node": "formal_review"}).json()["results"][0]
    office.post(f"/api/v1/tasks/{task['id']}/claim/")

    response = office.post(f"/api/v1/tasks/{task['id']}/complete/", {"decision": "maybe"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert list(response.json()["fields"]) == ["decision"]
    assert office.get(f"/api/v1/tasks/{task['id']}/").json()["status"] == "ASSIGNED"


def test_evidence_upload_is_judged_by_content_and_only_for_the_lead(world):
    requirement = world.standard.indicators().get(code="A1").evidence_requirements.get()
    url = f"/api/v1/applications/{world.application.pk}/requirements/{requirement.pk}/upload/"

    fake = api_as(world.lead).post(
        url, {"file": SimpleUploadedFile("章程.pdf", exe_bytes(), content_type="application/pdf")}, format="multipart"
    )
    empty = api_as(world.lead).post(url, {}, format="multipart")
    office = api_as(world.office).post(
        url, {"file": SimpleUploadedFile("章程.pdf", pdf_bytes(), content_type="application/pdf")}, format="multipart"
    )

    assert (fake.status_code, fake.json()["code"]) == (400, "upload_rejected")
    assert CHINESE.search(fake.json()["message"])
    assert (empty.status_code, empty.json()["fields"]) == (400, {"file": ["请选择要上传的文件。"]})
    assert (office.status_code, office.json()["code"]) == (403, "not_allowed")
    assert EvidenceFile.objects.count() == 0


def test_evidence_upload_over_the_limit_is_refused_before_it_is_stored(world, settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1024
    requirement = world.standard.indicators().get(code="A1").evidence_requirements.get()
    url = f"/api/v1/applications/{world.application.pk}/requirements/{requirement.pk}/upload/"

    response = api_as(world.lead).post(
        url,
        {"file": SimpleUploadedFile("章程.pdf", pdf_bytes("x" * 5000), content_type="application/pdf")},
        format="multipart",
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["file"]
    assert EvidenceFile.objects.count() == 0


def test_workbook_errors_come_back_by_sheet_row_and_column(world, django_capture_on_commit_callbacks):
    cluster = ClusterFactory(district=world.district)
    for role in (ClusterMembership.Role.LEAD, ClusterMembership.Role.MEMBER):
        ClusterMembership.objects.create(cluster=cluster, school=SchoolFactory(district=world.district), role=role)
    grant_role(world.lead, Role.LEAD, cluster=cluster)
    data = data_application(cluster, computed_standard(("backbone_share_same_stage", "gte", "0.20")))
    client = api_as(world.lead)
    workbook = workbook_bytes("rotation", [["王老师", "不存在的学校", "", "", "", "", "", "", ""]])

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            f"/api/v1/applications/{data.pk}/datasets/rotation/upload/",
            {"file": SimpleUploadedFile("轮岗.xlsx", workbook)},
            format="multipart",
        )

    assert started.status_code == 202
    polled = client.get(f"/api/v1/applications/{data.pk}/dataset-imports/{started.json()['id']}/").json()
    assert polled["status"] == DatasetImport.Status.FAILED
    assert polled["finished_import"] is True
    first = polled["errors"][0]
    assert (first["sheet"], first["row"], first["column"]) == ("交流轮岗名册", 2, "B")
    assert CHINESE.search(first["message"])
