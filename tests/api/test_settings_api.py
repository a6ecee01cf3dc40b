"""API_RATE_LIMIT is read at start-up; a bad value stops it, like every other setting."""

import pytest

from tests.project.test_settings import run


def test_api_rate_limit_with_a_bad_value_stops_start_up():
    result = run(["manage.py", "check"], API_RATE_LIMIT="many per hour")

    assert result.returncode != 0
    assert "API_RATE_LIMIT must look like 1200/hour (per second/minute/hour/day), got 'many per hour'" in result.stderr


@pytest.mark.parametrize("rate", ["5/second"])
def test_api_rate_limit_accepts_a_rate(rate):
    assert run(["manage.py", "check"], API_RATE_LIMIT=rate).returncode == 0
