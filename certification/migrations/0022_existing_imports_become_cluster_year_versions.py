"""Existing per-application imports become versions of their cluster's data for the application's school year.

Nothing is lost: every import keeps its record, workbook and rows; it gains the application's cluster and school year
(assessment year − 1, `certification.models.dataset.data_school_year`); finished imports are numbered 1, 2, … per
(cluster, school year, data set) in the order they finished; only the newest finished one stays `done` (an older
application's imports of the same year become `replaced`, rows kept); and every application pins the imports that
were its current data (`done` before this migration), so its computed indicators and score sheets read the same rows.
"""

from django.db import migrations

FINISHED = ("done", "replaced")


def forwards(apps, schema_editor):
    DatasetImport = apps.get_model("certification", "DatasetImport")
    Application = apps.get_model("certification", "Application")
    Pin = Application.data_versions.through
    imports = list(
        DatasetImport.objects.select_related("application").order_by("finished", "created", "id")
    )
    pins = []
    for item in imports:
        item.cluster_id = item.application.cluster_id
        item.school_year = item.application.year - 1
        if item.status == "done":
            pins.append(Pin(application_id=item.application_id, datasetimport_id=item.pk))
    numbers = {}
    latest = {}
    for item in imports:
        if item.status not in FINISHED:
            continue
        key = (item.cluster_id, item.school_year, item.dataset)
        numbers[key] = numbers.get(key, 0) + 1
        item.version = numbers[key]
        if item.status == "done":
            previous = latest.get(key)
            if previous is not None:
                previous.status = "replaced"
            latest[key] = item
    DatasetImport.objects.bulk_update(imports, ["cluster", "school_year", "version", "status"], batch_size=1000)
    Pin.objects.bulk_create(pins, batch_size=1000)


def backwards(apps, schema_editor):
    # The forward step adds information only; going back drops it with the columns.
    Application = apps.get_model("certification", "Application")
    Application.data_versions.through.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("certification", "0021_datasets_belong_to_cluster_and_school_year")]

    operations = [migrations.RunPython(forwards, backwards)]
