"""Files without a row: refused and replaced imports' workbooks are kept for the retention period, then removed
and audited; orphan files (stored, named by no row) are swept after a grace period."""

import datetime
import os

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from certification.domain import evidence
from certification.domain.datasets import start_import
from certification.domain.retention import sweep_storage
from certification.models import AuditEvent, ClusterMembership, DatasetImport
from certification.tasks import task_sweep_storage
from tests.factories import evidence as f
from tests.factories.datasets import data_application, data_cluster, dataset_standard, lead, workbook_bytes, xlsx_upload

pytestmark = pytest.mark.django_db
NOW = timezone.now()
ROW = ["教师1", "天平路小学", "湖南路小学", "小学", "小学", "是", "2025-09-01", 3]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_WORKBOOK_RETENTION_DAYS = 30
    settings.ORPHAN_GRACE_HOURS = 24
    return tmp_path


@pytest.fixture
def application():
    cluster = data_cluster(("天平路小学", ["primary"], ClusterMembership.Role.LEAD), ("湖南路小学", ["primary"]))
    return data_application(cluster, dataset_standard("rotation"))


@pytest.fixture
def importer(application, django_capture_on_commit_callbacks):
    by = lead(application.cluster)

    def run(rows, *, finished):
        with django_capture_on_commit_callbacks(execute=True):
            dataset_import = start_import(application, "rotation", xlsx_upload(workbook_bytes("rotation", rows)), by=by)
        DatasetImport.objects.filter(pk=dataset_import.pk).update(finished=finished)
        dataset_import.refresh_from_db()
        return dataset_import

    return run


def days_ago(days):
    return NOW - datetime.timedelta(days=days)


def sweep(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return sweep_storage(NOW)


def age(media, name, hours):
    stamp = (NOW - datetime.timedelta(hours=hours)).timestamp()
    os.utime(media / name, (stamp, stamp))


def test_failed_import_workbook_removed_after_retention_and_audited(
    importer, application, media, django_capture_on_commit_callbacks
):
    old = importer([["教师1", "不存在的学校"]], finished=days_ago(31))
    recent = importer([["教师1", "不存在的学校"]], finished=days_ago(29))
    name = old.workbook.name

    result = sweep(django_capture_on_commit_callbacks)

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, recent.status) == ("failed", "failed")
    assert (result.workbooks_removed, result.orphans_removed) == ([name], [])
    assert (old.workbook.name, (media / name).exists()) == ("", False)
    assert (media / recent.workbook.name).exists()
    removed = AuditEvent.objects.get(action="dataset.workbook_removed")
    assert (removed.application, removed.object_id) == (application, str(old.pk))
    assert removed.payload == {"name": name, "sha256": old.fingerprint, "status": "failed", "retention_days": 30}


def test_replaced_import_workbook_counted_from_replacement(importer, media, django_capture_on_commit_callbacks):
    long_replaced = importer([ROW], finished=days_ago(90))
    newer = importer([ROW], finished=days_ago(40))
    current = importer([ROW], finished=days_ago(10))
    names = [item.workbook.name for item in (long_replaced, newer, current)]

    result = sweep(django_capture_on_commit_callbacks)

    statuses = list(DatasetImport.objects.order_by("pk").values_list("status", "workbook"))
    # Replaced 40 days ago: removed. Replaced 10 days ago (though imported 40 days ago): kept. Current: kept.
    assert statuses == [("replaced", ""), ("replaced", names[1]), ("done", names[2])]
    assert result.workbooks_removed == [names[0]]
    assert [(media / name).exists() for name in names] == [False, True, True]


def test_sweep_twice_removes_nothing_more(importer, django_capture_on_commit_callbacks):
    importer([["教师1", "不存在的学校"]], finished=days_ago(31))
    sweep(django_capture_on_commit_callbacks)

    again = sweep(django_capture_on_commit_callbacks)

    assert (again.workbooks_removed, again.orphans_removed) == ([], [])
    assert AuditEvent.objects.filter(action="dataset.workbook_removed").count() == 1


def test_orphan_of_rolled_back_upload_swept_after_grace(media, django_capture_on_commit_callbacks):
    application = f.make_application()
    user = f.make_lead(application.cluster)
    charter = f.requirement(application, "A1-charter")
    kept = evidence.upload_evidence(application, charter, f.upload(f.pdf_bytes("kept"), "章程.pdf"), by=user)
    with pytest.raises(RuntimeError), transaction.atomic():
        evidence.upload_evidence(application, charter, f.upload(f.pdf_bytes("lost"), "章程.pdf"), by=user)
        raise RuntimeError("the caller's transaction rolls back after the file was stored")
    folder = media / "evidence" / str(application.pk)
    orphan = next(f"evidence/{application.pk}/{p.name}" for p in folder.iterdir() if p.name not in kept.stored_name)
    young = default_storage.save("exports/young.xlsx", f.upload(b"x", "young.xlsx"))
    for name in (kept.stored_name, orphan):
        age(media, name, 25)

    result = sweep(django_capture_on_commit_callbacks)

    assert result.orphans_removed == [orphan]
    assert sorted(p.name for p in folder.iterdir()) == [kept.stored_name.rsplit("/", 1)[1]]
    assert (media / young).exists()
    event = AuditEvent.objects.get(action="storage.orphans_removed")
    assert event.payload == {"names": [orphan], "count": 1, "grace_hours": 24}


def test_sweep_command_and_beat_task_report_counts(importer, media, django_capture_on_commit_callbacks, capsys):
    importer([["教师1", "不存在的学校"]], finished=days_ago(31))
    stray = default_storage.save("datasets/stray.xlsx", f.upload(b"x", "stray.xlsx"))
    age(media, stray, 48)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_storage")
    first = capsys.readouterr().out
    second = task_sweep_storage.apply().get()

    assert first == "已删除导入工作簿：1；已删除孤立文件：1\n"
    assert second == {"workbooks": 0, "orphans": 0}
