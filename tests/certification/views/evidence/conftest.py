"""Fixtures shared by the evidence page tests: a district office in scope and one stored charter."""

import pytest

from certification.domain import evidence as domain
from certification.domain.roles import grant_role
from certification.models import Role
from tests.factories import UserFactory
from tests.factories import evidence as f


@pytest.fixture
def district_office(application):
    user = UserFactory()
    grant_role(user, Role.DISTRICT_OFFICE, region=application.cluster.district)
    return user


@pytest.fixture
def stored(application, lead, charter):
    return domain.upload_evidence(application, charter, f.upload(f.pdf_bytes("保密内容"), "章程.pdf"), by=lead)
