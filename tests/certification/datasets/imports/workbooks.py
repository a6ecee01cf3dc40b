"""Rows, runs and stored files the data set import tests share."""

import datetime
from pathlib import Path

from django.conf import settings

from certification.domain.datasets import start_import
from tests.factories.datasets import xlsx_upload

SHEET = "交流轮岗名册"
# A data set import names what it accepts, not the evidence types (PDF, Word, PowerPoint…).
ACCEPTS = "不接受此类文件。请上传以下类型之一：Excel (.xlsx)、OpenDocument (.ods)。"


def roster_row(teacher="教师1", source="天平路小学", target="湖南路小学", **overrides):
    row = {
        "teacher": teacher,
        "from": source,
        "to": target,
        "from_stage": "小学",
        "to_stage": "小学",
        "backbone": "是",
        "start": datetime.datetime(2025, 9, 1),
        "term": 3,
    }
    row.update(overrides)
    return list(row.values())


def run(application, content, by, django_capture_on_commit_callbacks, *, code="rotation", name="名册.xlsx"):
    with django_capture_on_commit_callbacks(execute=True):
        dataset_import = start_import(application, code, xlsx_upload(content, name), by=by)
    dataset_import.refresh_from_db()
    return dataset_import


def stored_workbooks(application):
    folder = Path(settings.MEDIA_ROOT) / "datasets" / str(application.pk)
    return sorted(path.name for path in folder.glob("*")) if folder.exists() else []
