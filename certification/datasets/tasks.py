"""The Celery tasks of data set imports. Thin: fetch, return quietly when gone, call the domain.

The import task is acknowledged only when it ends (`acks_late`) and goes back to the queue when its worker process
is killed (`reject_on_worker_lost`): the redelivered message claims the import again once the dead worker's
heartbeat is stale (`certification.domain.datasets.run_import`). Beat's sweep restarts what no message will.
"""

from celery import shared_task

from certification.domain.datasets import run_import
from certification.models import DatasetImport


@shared_task(name="certification.import_dataset", acks_late=True, reject_on_worker_lost=True)
def task_import_dataset(*, import_id):
    """Run the import `import_id`. Safe to run twice: the domain claims only a pending import or a dead worker's."""
    dataset_import = DatasetImport.objects.filter(pk=import_id).first()
    if dataset_import is None:
        return None
    return run_import(dataset_import).status
