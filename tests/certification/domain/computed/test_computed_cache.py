"""Computed indicators are computed once per (application, data version) and recomputed when the data change."""

import pytest
from django.utils import translation

from certification.domain import computed_cache
from tests.factories.work import ApplicationFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def counted(monkeypatch):
    """compute_indicators replaced by a counter; data_version by a value the test sets."""
    state = {"computations": 0, "version": "v1"}

    def compute(application):
        state["computations"] += 1
        return {"computed": state["computations"]}

    monkeypatch.setattr(computed_cache, "compute_indicators", compute)
    monkeypatch.setattr(computed_cache, "data_version", lambda application: state["version"])
    return state


def test_unchanged_data_are_computed_once(counted):
    application = ApplicationFactory()
    first = computed_cache.indicators_with_version(application)
    second = computed_cache.indicators_with_version(application)
    assert first == second == ({"computed": 1}, "v1")
    assert counted["computations"] == 1


def test_a_new_data_version_is_computed_again(counted):
    application = ApplicationFactory()
    computed_cache.indicators_with_version(application)
    counted["version"] = "v2"
    assert computed_cache.indicators_with_version(application) == ({"computed": 2}, "v2")


def test_each_application_and_language_has_its_own_figures(counted):
    one, other = ApplicationFactory(), ApplicationFactory()
    computed_cache.indicators_with_version(one)
    computed_cache.indicators_with_version(other)
    with translation.override("en"):
        computed_cache.indicators_with_version(one)
    assert counted["computations"] == 3


def test_the_page_section_is_rendered_once_per_data_version_and_language(counted):
    application = ApplicationFactory()
    renders = []

    def render(results):
        renders.append(results)
        return f"<table>{results['computed']}</table>"

    first = computed_cache.rendered_indicators(application, render)
    again = computed_cache.rendered_indicators(application, render)
    assert first == again == ("<table>1</table>", "v1")
    assert len(renders) == 1
    with translation.override("en"):
        computed_cache.rendered_indicators(application, render)
    counted["version"] = "v2"
    assert computed_cache.rendered_indicators(application, render) == ("<table>3</table>", "v2")
    assert len(renders) == 3
