"""manage.py backup / restore: a backup restored into an empty database and an empty storage (a fresh SQLite file
and media folder, in a separate process, as an operator would run it) gives back every application, every file
with its sha256, and every audit row, and the audit chain verifies."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from certification.domain import evidence
from certification.domain.datasets import start_import
from certification.models import Application, AuditEvent, ClusterMembership, DatasetImport, EvidenceFile
from tests.factories import evidence as f
from tests.factories.datasets import data_application, data_cluster, dataset_standard, lead, workbook_bytes, xlsx_upload

pytestmark = pytest.mark.django_db
BASE_DIR = Path(settings.BASE_DIR)
ROW = ["教师1", "天平路小学", "湖南路小学", "小学", "小学", "是", "2025-09-01", 3]
# What the restored database holds, read by the project itself in the restoring environment.
READ_BACK = """
import hashlib, json
from django.core.files.storage import default_storage
from certification.domain.audit import verify_chain
from certification.models import Application, AuditEvent, EvidenceFile, DatasetImport
print(json.dumps({
    "applications": list(Application.objects.order_by("pk").values_list("pk", "cluster__name", "status", "standard_id")),
    "events": list(AuditEvent.objects.order_by("pk").values_list("pk", "action", "actor__username", "hash")),
    "files": {e.stored_name: hashlib.sha256(default_storage.open(e.stored_name).read()).hexdigest()
              for e in EvidenceFile.objects.all()},
    "workbooks": list(DatasetImport.objects.values_list("workbook", "fingerprint")),
    "chain_broken_at": getattr(verify_chain(), "pk", None),
}, ensure_ascii=False))
"""


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def filled(media, django_capture_on_commit_callbacks):
    """Two applications: evidence in two versions, and an imported data set whose workbook is also evidence."""
    application = f.make_application()
    user = f.make_lead(application.cluster)
    charter = f.requirement(application, "A1-charter")
    for text in ("第一版", "第二版"):
        evidence.upload_evidence(application, charter, f.upload(f.pdf_bytes(text), "章程.pdf"), by=user)
    cluster = data_cluster(("天平路小学", ["primary"], ClusterMembership.Role.LEAD), ("湖南路小学", ["primary"]))
    with django_capture_on_commit_callbacks(execute=True):
        start_import(
            data_application(cluster, dataset_standard("rotation")),
            "rotation",
            xlsx_upload(workbook_bytes("rotation", [ROW])),
            by=lead(cluster),
        )


def restoring_environment(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'restored.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "restored-media"),
        STORAGE_URL="",
        DEBUG="1",
    )
    return env


def manage(env, *arguments):
    return subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=600
    )


def test_backup_restores_into_empty_database_and_storage(filled, media, tmp_path):
    call_command("backup", str(tmp_path / "backup"))
    env = restoring_environment(tmp_path)

    restored = manage(env, "restore", str(tmp_path / "backup"))
    read_back = manage(env, "shell", "-c", READ_BACK)

    assert restored.returncode == 0, restored.stderr
    events = AuditEvent.objects.count()
    assert restored.stdout.strip().endswith(f"文件 4 个，审计记录 {events} 条；审计链校验通过。")
    state = json.loads(read_back.stdout.strip().splitlines()[-1])
    applications = Application.objects.order_by("pk").values_list("pk", "cluster__name", "status", "standard_id")
    assert state["applications"] == [list(row) for row in applications]
    audit_rows = AuditEvent.objects.order_by("pk").values_list("pk", "action", "actor__username", "hash")
    assert state["events"] == [list(row) for row in audit_rows]
    assert state["files"] == {
        e.stored_name: hashlib.sha256((media / e.stored_name).read_bytes()).hexdigest()
        for e in EvidenceFile.objects.all()
    }
    assert state["files"] == {e.stored_name: e.sha256 for e in EvidenceFile.objects.all()}
    assert state["workbooks"] == [list(row) for row in DatasetImport.objects.values_list("workbook", "fingerprint")]
    assert state["chain_broken_at"] is None


def test_restore_of_damaged_backup_refused_before_anything_changes(filled, tmp_path):
    call_command("backup", str(tmp_path / "backup"))
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text(encoding="utf-8"))
    damaged = tmp_path / "backup" / "files" / manifest["files"][0]["name"]
    damaged.write_bytes(damaged.read_bytes() + b"x")

    with pytest.raises(CommandError) as refusal:
        call_command("restore", str(tmp_path / "backup"))

    assert str(refusal.value) == (
        f"the backup is damaged: files/{manifest['files'][0]['name']}: sha256 or size differs from the manifest"
    )


def test_restore_into_database_with_rows_refused(filled, tmp_path):
    call_command("backup", str(tmp_path / "backup"))

    with pytest.raises(CommandError) as refusal:
        call_command("restore", str(tmp_path / "backup"))

    assert str(refusal.value).startswith("restore needs an empty database; these tables have rows: ")
    assert "certification.application" in str(refusal.value)


def test_backup_into_folder_with_files_refused(filled, tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "older").write_text("an older backup")

    with pytest.raises(CommandError) as refusal:
        call_command("backup", str(tmp_path / "backup"))

    assert str(refusal.value) == f"{tmp_path / 'backup'} is not empty; a backup never overwrites another"
