"""Fixtures shared by the browser tests."""

import pytest
from django.urls import reverse

from certification.domain.roles import ensure_groups
from certification.models import Tier
from tests.factories.workflow import build_world
from tests.workflows.work_pages.helpers import to_formal_review


@pytest.fixture
def formal_review_world(transactional_db):
    """A 紧密型 application at formal review (`world.application`, `world.process`), its district office able to sign
    in with the browser tests' password."""
    ensure_groups()
    reverse("workflow:inbox")
    world = build_world(Tier.CLOSE_KNIT)
    world.office.set_password("correct-horse-battery")
    world.office.save()
    world.application, world.process = to_formal_review(world)
    return world
