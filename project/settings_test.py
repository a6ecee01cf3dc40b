"""Test overrides: fast hashing, in-memory mail, eager Celery (even with a broker), uploads in a temp dir.

Every pytest-xdist worker is its own process, so the temporary folders below are its own; pytest-django gives each
worker its own test database; a Redis cache gets a per-worker key prefix (PYTEST_XDIST_WORKER)."""

import os
import tempfile

from .settings import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = tempfile.mkdtemp(prefix="xqrz-test-media-")
# Eager even when CI's second pass sets CELERY_BROKER_URL: no worker runs beside the suite, so a queued task would
# never run and every test that expects its effect would fail. The test that needs a real worker starts one and turns
# eager mode off for its own duration (tests/certification/domain/test_tasks.py).
CELERY_TASK_ALWAYS_EAGER = True
DEMO_MODE = True
AUDIT_ANCHOR_ROOT = tempfile.mkdtemp(prefix="xqrz-test-anchors-")
STORAGES = {**STORAGES, "audit_anchors": {**STORAGES["audit_anchors"], "OPTIONS": {"location": AUDIT_ANCHOR_ROOT}}}
# Sign-in throttling needs a request in every authenticate() call, and the test client's login() passes none.
# tests/certification/views/test_login_throttling.py turns it on for its own tests.
AXES_ENABLED = False
# With CACHE_URL (CI's second pass) every worker shares one Redis database: its keys get the worker's own prefix, and
# clearing the cache between tests removes only them (tests/worker_cache.py), never another worker's.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES = {
        "default": {
            **CACHES["default"],
            "BACKEND": "tests.worker_cache.WorkerRedisCache",
            "KEY_PREFIX": f"xqrz-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}",
        }
    }
