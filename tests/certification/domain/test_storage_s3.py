"""Evidence, data-set workbooks and exports on S3, selected by STORAGE_URL, against moto's S3 server run in-process
on 127.0.0.1 (no outside service). Downloads stay behind the same permission checks and are streamed."""

import hashlib
from io import BytesIO

import boto3
import pytest
from django.core.files.storage import storages
from django.urls import reverse
from moto.server import ThreadedMotoServer
from openpyxl import load_workbook
from storages.backends.s3 import S3Storage

from certification.domain import evidence as domain
from certification.domain.datasets import start_import
from certification.domain.exports import request_export
from certification.models import ClusterMembership, EvidenceFile, Role
from project.settings import storage_from_url
from tests.factories import DistrictFactory, UserFactory
from tests.factories import evidence as f
from tests.factories.datasets import data_application, data_cluster, dataset_standard, lead, workbook_bytes, xlsx_upload
from tests.factories.work import person

pytestmark = pytest.mark.django_db
BUCKET = "xqrz-media"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings):
    """An empty bucket, and STORAGE_URL pointing at it as production would set it."""
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    client.create_bucket(Bucket=BUCKET)
    url = f"s3://k:s@{BUCKET}/media?endpoint_url={s3_endpoint}&region_name=us-east-1"
    settings.STORAGES = {**settings.STORAGES, "default": storage_from_url(url)}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def stored_object(client, name):
    return client.get_object(Bucket=BUCKET, Key=f"media/{name}")["Body"].read()


def test_evidence_versions_kept_in_s3_and_downloaded_only_in_scope(bucket, client):
    application = f.make_application()
    user = f.make_lead(application.cluster)
    charter = f.requirement(application, "A1-charter")

    first = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes("v1"), "章程.pdf"), by=user)
    second = domain.upload_evidence(application, charter, f.upload(f.pdf_bytes("v2"), "章程.pdf"), by=user)
    client.force_login(user)
    response = client.get(reverse("evidence_download", args=[application.pk, second.pk]))
    downloaded = b"".join(response.streaming_content)
    client.force_login(UserFactory())
    outsider = client.get(reverse("evidence_download", args=[application.pk, second.pk]))

    assert isinstance(storages["default"], S3Storage)
    assert (first.version, second.version) == (1, 2)
    assert stored_object(bucket, first.stored_name) == f.pdf_bytes("v1")
    assert stored_object(bucket, second.stored_name) == f.pdf_bytes("v2")
    assert second.sha256 == hashlib.sha256(f.pdf_bytes("v2")).hexdigest()
    assert (response.status_code, response["Content-Type"], downloaded) == (200, "application/pdf", f.pdf_bytes("v2"))
    assert outsider.status_code == 404


def test_dataset_import_reads_workbook_from_s3(bucket, django_capture_on_commit_callbacks):
    cluster = data_cluster(("天平路小学", ["primary"], ClusterMembership.Role.LEAD), ("湖南路小学", ["primary"]))
    application = data_application(cluster, dataset_standard("rotation"))
    content = workbook_bytes("rotation", [["教师1", "天平路小学", "湖南路小学", "小学", "小学", "是", "2025-09-01", 3]])

    with django_capture_on_commit_callbacks(execute=True):
        dataset_import = start_import(application, "rotation", xlsx_upload(content), by=lead(cluster))
    dataset_import.refresh_from_db()

    assert (dataset_import.errors, dataset_import.status, dataset_import.rows_count) == ([], "done", 1)
    assert stored_object(bucket, dataset_import.workbook.name) == content
    assert stored_object(bucket, EvidenceFile.objects.get(application=application).stored_name) == content


def test_export_built_into_s3_and_downloaded_by_requester_only(bucket, client, django_capture_on_commit_callbacks):
    district = DistrictFactory()
    office = person(Role.DISTRICT_OFFICE, region=district)
    with django_capture_on_commit_callbacks(execute=True):
        job = request_export(by=office, district=district)
    job.refresh_from_db()

    client.force_login(office)
    response = client.get(reverse("export_download", args=[job.pk]))
    downloaded = b"".join(response.streaming_content)
    client.force_login(person(Role.DISTRICT_OFFICE, region=DistrictFactory()))
    other = client.get(reverse("export_download", args=[job.pk]))

    assert (job.status, job.file_path.startswith("exports/")) == ("done", True)
    assert downloaded == stored_object(bucket, job.file_path)
    assert load_workbook(BytesIO(downloaded)).sheetnames == ["全区汇总", "指标明细"]
    assert other.status_code == 404
