import pytest
from django.core.cache import cache
from django.urls import reverse

from certification.domain.roles import ensure_groups


@pytest.fixture(autouse=True)
def role_groups(db):
    """Role groups as `sync_roles` leaves them; loads the URLconf so flow nodes can reverse their URLs."""
    reverse("workflow:inbox")
    return ensure_groups()


@pytest.fixture(autouse=True)
def empty_rate_limits():
    """Rate-limit counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()
