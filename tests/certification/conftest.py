"""Fixtures shared by the evidence tests (uploads, pages and downloads)."""

import pytest

from tests.factories import evidence as f


@pytest.fixture
def media(settings, tmp_path):
    """MEDIA_ROOT in a temporary folder, so a test can assert exactly which files were stored."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def application():
    return f.make_application()


@pytest.fixture
def lead(application):
    return f.make_lead(application.cluster)


@pytest.fixture
def charter(application):
    return f.requirement(application, "A1-charter")
