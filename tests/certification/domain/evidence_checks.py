"""Checks the evidence domain tests share."""

from certification.models import AuditEvent, EvidenceFile
from tests.factories.evidence import stored_files


def assert_nothing_stored(media):
    assert EvidenceFile.objects.count() == 0
    assert stored_files(media) == []
    assert not AuditEvent.objects.filter(action="evidence.uploaded").exists()
