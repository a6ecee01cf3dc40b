"""Imports and exports whose worker died: the stale-claim sweep (beat, `fire_timers`, the office's button) and a
redelivered task restart them cleanly (partial rows deleted in the claiming transaction) or fail them; the lead
is told which. Fast and on SQLite; the real worker killed with SIGKILL is tests/certification/datasets/test_datasets_services.py.
"""

import datetime
import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from certification.datasets.tasks import task_import_dataset
from certification.domain.datasets import start_import
from certification.excel.summary_export import build_export
from certification.models import AuditEvent, ClusterMembership, DatasetImport, ExportJob, RotationRecord
from certification.tasks import task_sweep_stale_claims
from tests.factories import DistrictFactory, UserFactory
from tests.factories.datasets import data_application, data_cluster, dataset_standard, lead, workbook_bytes, xlsx_upload

pytestmark = pytest.mark.django_db
ROWS = 30


@pytest.fixture(autouse=True)
def media_and_language(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.CLAIM_STALE_SECONDS = 60
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def cluster():
    return data_cluster(("天平路小学", ["primary"], ClusterMembership.Role.LEAD), ("湖南路小学", ["primary"]))


@pytest.fixture
def application(cluster):
    return data_application(cluster, dataset_standard("rotation"))


def roster(count):
    return [
        [f"T{n:05d}", "天平路小学", "湖南路小学", "小学", "小学", "否", datetime.datetime(2025, 9, 1), 3]
        for n in range(count)
    ]


def killed_mid_import(application, cluster, *, attempts=1, seconds_ago=600):
    """An import whose worker died after writing 10 of its rows: running, claimed, its heartbeat `seconds_ago`."""
    content = workbook_bytes("rotation", roster(ROWS))
    # Not executed: the task is what died.
    dataset_import = start_import(application, "rotation", xlsx_upload(content), by=lead(cluster))
    DatasetImport.objects.filter(pk=dataset_import.pk).update(
        status=DatasetImport.Status.RUNNING,
        claimed_by="dead-host:4242:deadbeef",
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=seconds_ago),
        attempts=attempts,
        progress=33,
        rows_count=10,
    )
    school = cluster.schools.get(name="天平路小学")
    RotationRecord.objects.bulk_create(
        RotationRecord(
            dataset_import=dataset_import,
            row_number=number,
            year=2025,
            teacher=f"T{number:05d}",
            from_school=school,
            to_school=school,
            from_stage="primary",
            to_stage="primary",
            backbone=False,
            start_date=datetime.date(2025, 9, 1),
            term_years=3,
        )
        for number in range(2, 12)
    )
    return dataset_import


def test_sweep_restarts_a_stale_import_and_it_ends_complete_without_duplicates(
    application, cluster, django_capture_on_commit_callbacks
):
    dataset_import = killed_mid_import(application, cluster)

    with django_capture_on_commit_callbacks(execute=True):
        counts = task_sweep_stale_claims()

    dataset_import.refresh_from_db()
    assert counts == (1, 0)
    assert (dataset_import.status, dataset_import.rows_count, dataset_import.restarts, dataset_import.attempts) == (
        "done",
        ROWS,
        1,
        2,
    )
    assert RotationRecord.objects.filter(dataset_import__application=application).count() == ROWS
    assert sorted(RotationRecord.objects.values_list("row_number", flat=True)) == list(range(2, ROWS + 2))
    assert list(AuditEvent.objects.filter(application=application).values_list("action", "to_state")) == [
        ("dataset.import_started", "pending"),
        ("dataset.import_restarted", "pending"),
        ("evidence.uploaded", ""),
        ("dataset.imported", "done"),
    ]


def test_sweep_leaves_an_import_with_a_fresh_heartbeat_alone(application, cluster, django_capture_on_commit_callbacks):
    dataset_import = killed_mid_import(application, cluster, seconds_ago=5)

    with django_capture_on_commit_callbacks(execute=True):
        counts = task_sweep_stale_claims()

    dataset_import.refresh_from_db()
    assert counts == (0, 0)
    assert (dataset_import.status, dataset_import.claimed_by, dataset_import.rows_count) == (
        "running",
        "dead-host:4242:deadbeef",
        10,
    )
    assert RotationRecord.objects.filter(dataset_import__application=application).count() == 10


def test_sweep_fails_an_import_whose_workers_kept_dying_and_removes_its_rows(
    client, application, cluster, django_capture_on_commit_callbacks
):
    dataset_import = killed_mid_import(application, cluster, attempts=3)

    with django_capture_on_commit_callbacks(execute=True):
        counts = task_sweep_stale_claims()

    dataset_import.refresh_from_db()
    assert counts == (0, 1)
    assert (dataset_import.status, dataset_import.claimed_by, dataset_import.is_interrupted) == ("failed", "", True)
    assert RotationRecord.objects.filter(dataset_import__application=application).count() == 0
    client.force_login(dataset_import.created_by)
    status = client.get(reverse("dataset_import_status", args=[application.pk, dataset_import.pk])).json()
    assert (status["status"], status["finished"], status["notice"]) == ("failed", True, "导入失败，请重新上传")
    page = client.get(reverse("dataset_import_detail", args=[application.pk, dataset_import.pk])).content.decode()
    assert "导入失败，请重新上传" in page
    assert 'id="import-progress"' not in page


def test_redelivered_task_restarts_a_dead_workers_import(application, cluster):
    dataset_import = killed_mid_import(application, cluster)

    assert task_import_dataset.delay(import_id=dataset_import.pk).get() == "done"

    dataset_import.refresh_from_db()
    assert (dataset_import.rows_count, dataset_import.restarts, dataset_import.claimed_by) == (ROWS, 1, "")
    assert RotationRecord.objects.filter(dataset_import__application=application).count() == ROWS


def test_redelivered_task_leaves_an_import_a_live_worker_holds(application, cluster):
    dataset_import = killed_mid_import(application, cluster, seconds_ago=5)

    assert task_import_dataset.delay(import_id=dataset_import.pk).get() == "running"

    assert RotationRecord.objects.filter(dataset_import__application=application).count() == 10


def test_import_page_tells_the_lead_a_restarted_import_started_again(client, application, cluster):
    dataset_import = killed_mid_import(application, cluster, seconds_ago=5)
    DatasetImport.objects.filter(pk=dataset_import.pk).update(restarts=1)
    client.force_login(dataset_import.created_by)

    status = client.get(reverse("dataset_import_status", args=[application.pk, dataset_import.pk])).json()

    assert (status["status"], status["finished"], status["notice"]) == ("running", False, "导入中断，已重新开始")


def test_import_page_says_a_stalled_import_will_restart(client, application, cluster):
    dataset_import = killed_mid_import(application, cluster)
    client.force_login(dataset_import.created_by)

    status = client.get(reverse("dataset_import_status", args=[application.pk, dataset_import.pk])).json()

    assert status["notice"] == "导入已停止推进，几分钟内将自动重新开始。"


def test_fire_timers_command_recovers_interrupted_imports(application, cluster, django_capture_on_commit_callbacks):
    dataset_import = killed_mid_import(application, cluster)
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("fire_timers", stdout=out)

    dataset_import.refresh_from_db()
    assert "中断的导入和导出：1 个已重新开始，0 个已标记失败。" in out.getvalue()
    assert (dataset_import.status, dataset_import.rows_count) == ("done", ROWS)


def stale_export(*, attempts):
    """A district export whose worker died mid-write. It stored nothing: a workbook is stored only when complete."""
    return ExportJob.objects.create(
        kind=ExportJob.Kind.DISTRICT,
        district=DistrictFactory(),
        created_by=UserFactory(),
        status=ExportJob.Status.RUNNING,
        claimed_by="dead-host:1:x",
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=10),
        attempts=attempts,
    )


def stored_exports():
    return default_storage.listdir("exports")[1] if default_storage.exists("exports") else []


def test_sweep_rebuilds_a_stale_export(django_capture_on_commit_callbacks):
    job = stale_export(attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        counts = task_sweep_stale_claims()

    job.refresh_from_db()
    assert counts == (1, 0)
    assert (job.status, job.progress, job.attempts, job.claimed_by) == ("done", 100, 2, "")
    assert stored_exports() == [job.file_path.removeprefix("exports/")]


def test_sweep_fails_an_export_whose_workers_kept_dying(django_capture_on_commit_callbacks):
    job = stale_export(attempts=3)

    with django_capture_on_commit_callbacks(execute=True):
        counts = task_sweep_stale_claims()

    job.refresh_from_db()
    assert counts == (0, 1)
    assert (job.status, job.error, job.file_path) == ("failed", "导出中断，请重新发起导出。", "")
    assert stored_exports() == []


def test_build_export_leaves_a_job_a_live_worker_holds():
    job = stale_export(attempts=1)
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())

    build_export(job)

    job.refresh_from_db()
    assert (job.status, job.claimed_by, job.file_path) == ("running", "dead-host:1:x", "")
    assert stored_exports() == []
