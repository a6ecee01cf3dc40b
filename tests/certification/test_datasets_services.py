"""The import through a real Celery worker on the real broker and PostgreSQL (CI's second pass)."""

import datetime
import time
import uuid

import pytest
from celery.result import EagerResult
from django.conf import settings
from django.db import connection

from certification.datasets.tasks import task_import_dataset
from certification.domain.datasets import start_import
from certification.models import AuditEvent, ClusterMembership, DatasetImport, RotationRecord
from project.celery import app as celery_app
from tests.factories.datasets import data_application, data_cluster, dataset_standard, lead, workbook_bytes, xlsx_upload

needs_services = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL or connection.vendor != "postgresql",
    reason="needs a real broker (CELERY_BROKER_URL) and PostgreSQL; runs in .ci/run's second pass",
)


@pytest.fixture
def real_worker(settings, tmp_path):
    """A Celery worker thread on the real broker, eager mode off, on a queue of its own (no stale messages)."""
    from celery.contrib.testing.worker import start_worker

    settings.MEDIA_ROOT = str(tmp_path)
    queue = f"xqrz-test-{uuid.uuid4().hex[:8]}"
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "task_default_queue")}
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=60):
            yield
    finally:
        celery_app.conf.update(saved)


@pytest.mark.services
@needs_services
@pytest.mark.django_db(transaction=True)
def test_real_worker_imports_a_roster_with_progress_seen_from_outside(real_worker):
    cluster = data_cluster(("天平路小学", ["primary"], ClusterMembership.Role.LEAD), ("湖南路小学", ["primary"]))
    application = data_application(cluster, dataset_standard("rotation"))
    rows = [
        [f"T{n:05d}", "天平路小学", "湖南路小学", "小学", "小学", "否", datetime.datetime(2025, 9, 1), 3]
        for n in range(3000)
    ]

    dataset_import = start_import(
        application, "rotation", xlsx_upload(workbook_bytes("rotation", rows)), by=lead(cluster)
    )
    seen = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        current = DatasetImport.objects.get(pk=dataset_import.pk)
        seen.add(current.progress)
        if current.is_finished:
            break
        time.sleep(0.05)
    again = task_import_dataset.delay(import_id=dataset_import.pk)  # a redelivered message: must change nothing
    time.sleep(2)

    current = DatasetImport.objects.get(pk=dataset_import.pk)
    assert (current.status, current.progress, current.rows_count) == ("done", 100, 3000)
    assert 100 in seen and len(seen) >= 2
    assert not isinstance(again, EagerResult)
    assert RotationRecord.objects.filter(application=application).count() == 3000
    assert AuditEvent.objects.filter(action="dataset.imported", application=application).count() == 1
