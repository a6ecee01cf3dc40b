"""Uploads go through Django's Storage API: another backend is a setting (STORAGES), and evidence, data-set
workbooks and downloads work on it unchanged. Here the backend is Django's in-memory storage, which has no path
on disk at all."""

import hashlib

import pytest
from django.core.files.storage import InMemoryStorage, default_storage, storages
from django.urls import reverse

from certification.domain import evidence as domain
from certification.domain.datasets import start_import
from certification.models import ClusterMembership, EvidenceFile
from tests.factories import evidence as f
from tests.factories.datasets import data_application, data_cluster, dataset_standard, lead, workbook_bytes, xlsx_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_memory(settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}


def test_evidence_kept_in_configured_storage_and_downloaded(client):
    application = f.make_application()
    user = f.make_lead(application.cluster)
    content = f.pdf_bytes("内存存储")

    evidence_file = domain.upload_evidence(
        application, f.requirement(application, "A1-charter"), f.upload(content, "章程.pdf"), by=user
    )
    client.force_login(user)
    response = client.get(reverse("evidence_download", args=[application.pk, evidence_file.pk]))
    downloaded = b"".join(response.streaming_content)

    assert isinstance(storages["default"], InMemoryStorage)
    assert default_storage.open(evidence_file.stored_name).read() == content
    assert evidence_file.sha256 == hashlib.sha256(content).hexdigest()
    assert downloaded == content


def test_dataset_import_reads_workbook_from_configured_storage(django_capture_on_commit_callbacks):
    cluster = data_cluster(("天平路小学", ["primary"], ClusterMembership.Role.LEAD), ("湖南路小学", ["primary"]))
    application = data_application(cluster, dataset_standard("rotation"))
    row = ["教师1", "天平路小学", "湖南路小学", "小学", "小学", "是", "2025-09-01", 3]
    content = workbook_bytes("rotation", [row])

    with django_capture_on_commit_callbacks(execute=True):
        dataset_import = start_import(application, "rotation", xlsx_upload(content), by=lead(cluster))
    dataset_import.refresh_from_db()

    assert (dataset_import.errors, dataset_import.status, dataset_import.rows_count) == ([], "done", 1)
    assert default_storage.open(dataset_import.workbook.name).read() == content
    kept = EvidenceFile.objects.get(application=application)
    assert default_storage.open(kept.stored_name).read() == content
