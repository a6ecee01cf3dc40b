"""Migration 0022: per-application imports become versions of their cluster's school year, without loss.

Cluster 甲: application A (2026) imported the roster twice (the first `replaced`, its rows already deleted by the old
rule; the second `done` with 2 rows) and once more, refused (`failed`); application B (2026, the same school year
2025) imported it later (`done`, 1 row). Cluster 乙: application C (2025) imported it once.
After the migration: 甲's 2025 roster has versions 1 (A's first), 2 (A's second, now `replaced`, rows kept, still
pinned by A) and 3 (B's, the latest, pinned by B); A's refused import has no version; 乙's 2024 roster is version 1.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from certification.domain.computed import data_version
from certification.models import Application, DatasetImport, RotationRecord
from tests.factories import ClusterFactory, SchoolFactory, UserFactory, published_standard

BEFORE = ("certification", "0021_datasets_belong_to_cluster_and_school_year")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor


@pytest.mark.django_db(transaction=True)
def test_existing_imports_become_pinned_cluster_year_versions_without_loss():
    standard = published_standard()
    user = UserFactory()
    first, second = ClusterFactory(name="甲"), ClusterFactory(name="乙")
    school = SchoolFactory(district=first.district)
    apps_of = {}
    for key, cluster, year, status in (
        ("A", first, 2026, Application.Status.CERTIFIED),
        ("B", first, 2026, Application.Status.EVIDENCE),
        ("C", second, 2025, Application.Status.EVIDENCE),
    ):
        apps_of[key] = Application.objects.create(
            cluster=cluster, target_tier=standard.tier, standard=standard, year=year, status=status, opened_by=user
        )
    latest = _migrate([BEFORE]).loader.graph.leaf_nodes()
    old = MigrationExecutor(connection).loader.project_state([BEFORE]).apps
    OldImport = old.get_model("certification", "DatasetImport")
    OldRotation = old.get_model("certification", "RotationRecord")
    at = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)

    def old_import(key, status, rows, minutes):
        item = OldImport.objects.create(
            application_id=apps_of[key].pk,
            dataset="rotation",
            workbook=f"datasets/{key}{minutes}.xlsx",
            original_name=f"{key}.xlsx",
            fingerprint=f"{minutes:064d}",
            rows_count=rows,
            status=status,
            progress=100,
            created_by_id=user.pk,
            finished=at + datetime.timedelta(minutes=minutes),
        )
        OldRotation.objects.bulk_create(
            OldRotation(
                dataset_import=item,
                row_number=number + 2,
                year=2025,
                teacher=f"{key}{number}",
                from_school_id=school.pk,
                to_school_id=school.pk,
                from_stage="primary",
                to_stage="primary",
                backbone=False,
                start_date=datetime.date(2025, 9, 1),
                term_years=Decimal("3"),
            )
            for number in range(rows if status == "done" else 0)
        )
        return item.pk

    a_first = old_import("A", "replaced", 3, 1)
    a_second = old_import("A", "done", 2, 2)
    a_refused = old_import("A", "failed", 0, 3)
    b_only = old_import("B", "done", 1, 4)
    c_only = old_import("C", "done", 1, 5)

    _migrate(latest)

    found = {
        item.pk: (item.cluster_id, item.school_year, item.version, item.status) for item in DatasetImport.objects.all()
    }
    assert found == {
        a_first: (first.pk, 2025, 1, "replaced"),
        a_second: (first.pk, 2025, 2, "replaced"),
        a_refused: (first.pk, 2025, None, "failed"),
        b_only: (first.pk, 2025, 3, "done"),
        c_only: (second.pk, 2024, 1, "done"),
    }
    pins = {key: list(app.data_versions.values_list("pk", flat=True)) for key, app in apps_of.items()}
    assert pins == {"A": [a_second], "B": [b_only], "C": [c_only]}
    assert list(RotationRecord.objects.for_application(apps_of["A"]).values_list("teacher", flat=True)) == [
        "A0",
        "A1",
    ]
    assert RotationRecord.objects.count() == 4  # every row kept
    assert data_version(apps_of["A"]) != data_version(apps_of["B"])
