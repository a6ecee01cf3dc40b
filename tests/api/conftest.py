import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from certification.domain.roles import ensure_groups
from workflows.api.tokens import create_token


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups, as `manage.py sync_roles` leaves them; also builds the URLconf (flow nodes reverse late)."""
    reverse("workflow:inbox")
    return ensure_groups()


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Token ids repeat from test to test; their request counts must not."""
    cache.clear()
    yield
    cache.clear()


def token_for(user, name="系统对接"):
    _token, secret = create_token(user, name, by=user)
    return secret


def api_as(user):
    """An API client carrying a fresh personal token of `user` (no session)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client
