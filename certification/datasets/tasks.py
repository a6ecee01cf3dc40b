"""The Celery tasks of data set imports. Thin: fetch, return quietly when gone, call the domain.

The import task is acknowledged only when it ends (`acks_late`) and goes back to the queue when its worker process
is killed (`reject_on_worker_lost`): the redelivered message claims the import again once the dead worker's
heartbeat is stale (`certification.domain.datasets.run_import`). Beat's sweep restarts what no message will.
"""

from celery import shared_task

from certification.models import DatasetImport


@shared_task(name="certification.import_dataset", acks_late=True, reject_on_worker_lost=True)
def task_import_dataset(*, import_id):
    """Run the import `import_id`. Safe to run twice: the domain claims only a pending import or a dead worker's."""
    from certification.domain.datasets import run_import

    dataset_import = DatasetImport.objects.filter(pk=import_id).first()
    if dataset_import is None:
        return None
    return run_import(dataset_import).status


def recover_interrupted_work():
    """Sweep stale imports and exports; (restarted, failed) counts summed. Beat, `fire_timers` and the button."""
    from certification.domain.datasets import sweep_stale_imports
    from certification.excel.summary_export import sweep_stale_exports

    counts = [sweep_stale_imports(), sweep_stale_exports()]
    return sum(count[0] for count in counts), sum(count[1] for count in counts)


@shared_task(name="certification.sweep_stale_claims")
def task_sweep_stale_claims():
    """Restart or fail the imports and exports whose workers died (beat, every minute)."""
    return recover_interrupted_work()
