"""Settings of bench/transition.py's processes: the test settings (the test client signs in without a request,
which sign-in throttling refuses), with `bench` installed so that viewflow can name the bare flow of
bench/bare_flow.py, and the URLs that mount it (bench/transition_urls.py)."""

from project.settings_test import *

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.transition_urls"
