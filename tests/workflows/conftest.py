import pytest
from django.urls import reverse

from certification.domain.roles import ensure_groups


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups with their model-wide permissions, as `manage.py sync_roles` leaves them.

    Also loads the URLconf: a flow node reverses its URLs only once the site's URLs have been built.
    """
    reverse("workflow:inbox")
    return ensure_groups()
