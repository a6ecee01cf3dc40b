"""Test overrides: fast hashing, in-memory mail, eager Celery unless a broker is given, uploads in a temp dir."""

import tempfile

from .settings import *
from .settings import CELERY_BROKER_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = tempfile.mkdtemp(prefix="xqrz-test-media-")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
DEMO_MODE = True
