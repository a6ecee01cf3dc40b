"""Fixtures shared by the computed-metric tests."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield
