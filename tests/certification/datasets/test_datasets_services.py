"""The import through a real Celery worker on the real broker and PostgreSQL (CI's second pass), and through a worker
killed with SIGKILL mid-import, then restarted."""

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from celery.result import EagerResult
from django.conf import settings
from django.db import connection

from certification.datasets.tasks import task_import_dataset
from certification.domain.datasets import start_import, sweep_stale_imports
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
    assert RotationRecord.objects.filter(dataset_import__application=application).count() == 3000
    assert AuditEvent.objects.filter(action="dataset.imported", application=application).count() == 1


def _worker(queue, media_root):
    """`celery worker` in a process (and session) of its own, on the test database, the real broker and `queue`."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "MEDIA_ROOT": str(media_root),
        "CLAIM_STALE_SECONDS": str(STALE_SECONDS),
    }
    command = [sys.executable, "-m", "celery", "-A", "project", "worker", "--pool=solo", "-Q", queue]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"]
    return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)


def _wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


STALE_SECONDS = 5
LARGE = 40_000


@pytest.mark.services
@needs_services
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_import_then_restarted_ends_complete_without_duplicates(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.CLAIM_STALE_SECONDS = STALE_SECONDS
    cluster = data_cluster(("天平路小学", ["primary"], ClusterMembership.Role.LEAD), ("湖南路小学", ["primary"]))
    application = data_application(cluster, dataset_standard("rotation"))
    rows = [
        [f"T{n:05d}", "天平路小学", "湖南路小学", "小学", "小学", "否", datetime.datetime(2025, 9, 1), 3]
        for n in range(LARGE)
    ]
    content = workbook_bytes("rotation", rows)
    queue = f"xqrz-kill-{uuid.uuid4().hex[:8]}"
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "task_default_queue")}
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    first = _worker(queue, tmp_path)
    second = None
    try:
        dataset_import = start_import(application, "rotation", xlsx_upload(content), by=lead(cluster))
        written = RotationRecord.objects.filter(dataset_import=dataset_import)
        assert _wait_for(lambda: written.exists(), 120), "the worker never started writing rows"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        killed = DatasetImport.objects.get(pk=dataset_import.pk)
        partial = written.count()
        assert killed.status == "running"
        assert 0 < partial < LARGE

        time.sleep(STALE_SECONDS + 1)
        second = _worker(queue, tmp_path)
        restarted, failed = sweep_stale_imports()  # what beat, `fire_timers` or the office's button runs
        assert (restarted, failed) == (1, 0)
        assert _wait_for(lambda: DatasetImport.objects.get(pk=dataset_import.pk).is_finished, 180)
    finally:
        celery_app.conf.update(saved)
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)

    current = DatasetImport.objects.get(pk=dataset_import.pk)
    print(f"killed with {partial} of {LARGE} rows written; after the restart: {current.status}, {written.count()} rows")
    assert (current.status, current.rows_count, current.progress, current.restarts) == ("done", LARGE, 100, 1)
    assert written.count() == LARGE
    assert written.values("row_number").distinct().count() == LARGE
    assert list(
        AuditEvent.objects.filter(application=application, action__startswith="dataset.").values_list("action")
    ) == [("dataset.import_started",), ("dataset.import_restarted",), ("dataset.imported",)]
