"""Benchmarks, run by ``make bench`` as ``python -m bench``.

Each benchmark is a module listed in BENCHMARKS with a function ``run_case(case)`` for every name in its ``CASES``
(our code, then openpyxl alone on the same cells). ``python -m bench`` runs every case in a fresh child process,
so that the child's peak resident set size (``ru_maxrss``, read with ``os.wait4``) belongs to that case alone, and
prints one table; results go to bench/results/ (git-ignored). A module without ``CASES`` is run whole through its
``run()`` (a list of (label, seconds, tracemalloc peak bytes)) in one child.

``run_case`` returns a dict: label, seconds (wall-clock of the first run), peak (tracemalloc peak bytes of a
second run: tracemalloc slows what it watches), and optional extra facts (rows, file size); a `note` is printed
under its row. `run_case` may return a list of such dicts (bench/server.py measures a server, not itself).
"""

import os

# Add a module here to have `make bench` run it.
# Import, export, the computed indicators and a task transition alternate with their anchors in
# `python -m bench.abab` (make bench runs them).
BENCHMARKS = ["bench.server", "bench.queues", "bench.tiers", "bench.computed_page"]


def percentile(values, fraction):
    """The value at `fraction` (0.5, 0.95…) of `values`, by nearest rank: one that was measured, never a blend."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def setup_database():
    """Django with a throw-away database whose schema is built from the models (not from migrations), with the
    queue entries' triggers (workflows 0008), which no model declares.

    Embedded settings: eager Celery (tasks run in-process) and uploads in a temporary MEDIA_ROOT.
    """
    import tempfile
    from importlib import import_module

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="xqrz-bench-media-"))
    # Anchor files belong to one database: the throw-away one gets its own, never the project's audit-anchors/.
    os.environ["AUDIT_ANCHOR_ROOT"] = tempfile.mkdtemp(prefix="xqrz-bench-anchors-")
    import django
    from django.conf import settings

    django.setup()
    from django.apps import apps
    from django.db import connection
    from django.test.utils import setup_test_environment

    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    # The models give no trigger: the database keeps the queues' entries with the ones its migration creates.
    queue_entry_triggers = import_module("workflows.migrations.0008_queue_entry_triggers")
    with connection.schema_editor() as editor:
        queue_entry_triggers.create_triggers(apps, editor)
    return name


def measure(function, *args):
    """(seconds of a first call, tracemalloc peak bytes of a second call)."""
    import time
    import tracemalloc

    start = time.perf_counter()
    function(*args)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    try:
        function(*args)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seconds, peak
