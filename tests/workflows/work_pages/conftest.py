"""Fixtures of the work-page tests."""

import pytest
from django.urls import reverse

from certification.domain.roles import ensure_groups
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def role_groups(db):
    """Role groups with their model-wide permissions, as `manage.py sync_roles` leaves them; the URLs built."""
    reverse("workflow:inbox")
    return ensure_groups()


@pytest.fixture
def reader(client):
    user = UserFactory()
    client.force_login(user)
    return user
