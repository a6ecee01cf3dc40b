"""The Celery task that imports a data set's workbook. Thin: fetch, return quietly when gone, call the domain."""

from celery import shared_task

from certification.domain.datasets import run_import
from certification.models import DatasetImport


@shared_task(name="certification.import_dataset")
def task_import_dataset(*, import_id):
    """Run the import `import_id`. Safe to run twice: the domain claims only a pending import."""
    dataset_import = DatasetImport.objects.filter(pk=import_id).first()
    if dataset_import is None:
        return None
    return run_import(dataset_import).status
