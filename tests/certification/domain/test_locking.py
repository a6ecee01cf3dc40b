"""A task's POST reads its application under lock once and hands it to the first step that locks it."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from certification.domain import locking
from certification.models import Application
from tests.factories.work import ApplicationFactory

pytestmark = [pytest.mark.django_db]


def test_the_first_step_takes_the_row_read_under_lock_without_reading_it_again():
    application = ApplicationFactory()
    with transaction.atomic(), locking.steps_in_request():
        held = locking.application_for_step(application.pk)
        with CaptureQueriesContext(connection) as taking:
            first = locking.lock_application(application.pk)
        first.status = Application.Status.ASSIGNMENT
        first.save(update_fields=["status"])
        with CaptureQueriesContext(connection) as again:
            second = locking.lock_application(application.pk)

    assert len(taking.captured_queries) == 0
    assert first is not held and first.pk == held.pk
    assert held.status != Application.Status.ASSIGNMENT  # the caller's instance is left as it was
    assert len(again.captured_queries) == 1  # a later step reads the row the first one changed
    assert second.status == Application.Status.ASSIGNMENT


def test_outside_a_task_post_every_lock_reads_the_row():
    application = ApplicationFactory()
    with transaction.atomic():
        locking.application_for_step(application.pk)
        with CaptureQueriesContext(connection) as reads:
            locked = locking.lock_application(application.pk)

    assert len(reads.captured_queries) == 1
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in reads.captured_queries[0]["sql"]
    assert locked.cluster.district_id == application.cluster.district_id


def test_a_kept_row_does_not_outlive_its_scope():
    application = ApplicationFactory()
    with transaction.atomic():
        with locking.steps_in_request():
            locking.application_for_step(application.pk)
        with CaptureQueriesContext(connection) as reads:
            locking.lock_application(application.pk)

    assert len(reads.captured_queries) == 1
