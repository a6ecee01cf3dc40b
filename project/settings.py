"""Settings for 学区认证, driven by environment variables.

With no environment at all the project runs embedded: SQLite in the project
folder, Celery tasks executed eagerly in-process, e-mail printed to the console.
Production sets ``DEBUG=0`` and the variables that `_require` names.
"""

import base64
import binascii
import hashlib
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from csp.constants import NONE, SELF, UNSAFE_HASHES
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off, got {raw!r}")


def _env_int(name, default, *, minimum=None):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def _env_list(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def _require(name):
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")
    return value


def audit_keys_from_env(raw, *, debug, secret_key):
    """Parse ``AUDIT_KEYS=k2:base64secret,k1:oldsecret`` into {key id: secret bytes}, the current key first.

    The audit chain's HMAC key must live outside the database, or whoever can write the database can rewrite the
    chain. A development default is derived from SECRET_KEY; production must set the variable.
    """
    raw = (raw or "").strip()
    if not raw:
        if not debug:
            raise ImproperlyConfigured(
                "AUDIT_KEYS must be set when DEBUG is off, e.g. AUDIT_KEYS=k1:<base64 of 32 random bytes>"
            )
        return {"dev": hashlib.sha256(f"audit-chain:{secret_key}".encode()).digest()}
    keys = {}
    for item in raw.split(","):
        key_id, sep, encoded = item.strip().partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.-]{1,16}", key_id):
            raise ImproperlyConfigured(
                f"AUDIT_KEYS entries must read <key id>:<base64 secret> with a key id of 1-16 letters, digits, "
                f"'_', '.' or '-', got {key_id or item.strip()!r}"
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"AUDIT_KEYS names key id {key_id!r} twice")
        try:
            secret = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"AUDIT_KEYS key {key_id!r} is not valid base64") from None
        if len(secret) < 16:
            raise ImproperlyConfigured(f"AUDIT_KEYS key {key_id!r} must decode to at least 16 bytes")
        keys[key_id] = secret
    return keys


def database_from_url(url):
    """Turn ``sqlite:///path`` or ``postgres://user:pw@host:port/name`` into a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if path.startswith("/") and parsed.netloc == "":
            # sqlite:///relative.db has path "/relative.db"; sqlite:////abs.db has "//abs.db".
            path = path[1:]
        if not path:
            raise ImproperlyConfigured("DATABASE_URL sqlite:/// needs a file name")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / path) if not path.startswith("/") else path,
        }
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parsed.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL {url!r} names no database")
        try:
            port = parsed.port
        except ValueError:
            raise ImproperlyConfigured(f"DATABASE_URL {url!r} has a bad port") from None
        options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        # PostgreSQL's JIT compiles the derived-tier and queue statements (a correlated subquery per row) for seconds
        # before running them in milliseconds (bench/tiers.py, bench/queues.py); these are short OLTP statements, so
        # it is off unless the URL sets `options` itself.
        options.setdefault("options", "-c jit=off")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": options,
            # gunicorn.conf.py sets 60: each worker keeps its connection, checked before it is reused.
            "CONN_MAX_AGE": _env_int("DB_CONN_MAX_AGE", 0, minimum=0),
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(f"DATABASE_URL must start with sqlite:// or postgres://, got {parsed.scheme or url!r}")


def _broker_url():
    url = os.environ.get("CELERY_BROKER_URL", "").strip()
    if not url:
        return ""
    scheme = urlparse(url).scheme
    if scheme not in {"redis", "rediss", "amqp", "amqps", "pyamqp"}:
        raise ImproperlyConfigured(f"CELERY_BROKER_URL must be a redis:// or amqp:// URL, got {url!r}")
    return url


# The options of django-storages' S3 backend that STORAGE_URL may set in its query string.
_S3_QUERY_OPTIONS = {"endpoint_url", "region_name", "addressing_style", "signature_version", "querystring_expire"}


def storage_from_url(url):
    """Turn STORAGE_URL into STORAGES["default"]: empty keeps files under MEDIA_ROOT; ``s3://bucket/prefix?...``
    selects django-storages' S3 backend (any S3-compatible service: endpoint_url=https://…, region_name=…).

    Keys come from ``s3://KEY:SECRET@bucket`` or from boto3's usual sources (AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, an instance role). Files are private and never overwritten; a signed URL, where one is
    made, lasts `querystring_expire` seconds (default 300).
    """
    if not url:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    parsed = urlparse(url)
    if parsed.scheme != "s3":
        raise ImproperlyConfigured(f"STORAGE_URL must be empty or s3://bucket?endpoint_url=..., got {url!r}")
    if not parsed.hostname:
        raise ImproperlyConfigured(f"STORAGE_URL {url!r} names no bucket: write s3://bucket")
    query = parse_qs(parsed.query, keep_blank_values=True)
    unknown = sorted(set(query) - _S3_QUERY_OPTIONS)
    if unknown:
        raise ImproperlyConfigured(
            f"STORAGE_URL has unknown options {', '.join(unknown)}; known: {', '.join(sorted(_S3_QUERY_OPTIONS))}"
        )
    options = {key: values[-1] for key, values in query.items()}
    endpoint = options.get("endpoint_url", "")
    if endpoint and urlparse(endpoint).scheme not in {"http", "https"}:
        raise ImproperlyConfigured(f"STORAGE_URL endpoint_url must be an http(s):// URL, got {endpoint!r}")
    try:
        expire = int(options.pop("querystring_expire", 300))
    except ValueError:
        raise ImproperlyConfigured("STORAGE_URL querystring_expire must be a number of seconds") from None
    if expire < 1:
        raise ImproperlyConfigured("STORAGE_URL querystring_expire must be at least 1 second")
    if parsed.username:
        options.update(access_key=unquote(parsed.username), secret_key=unquote(parsed.password or ""))
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **options,
            # The bucket name keeps its case (urlparse lowers hostnames; S3 bucket names are lowercase anyway).
            "bucket_name": parsed.netloc.rpartition("@")[2],
            "location": unquote(parsed.path).strip("/"),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": expire,
        },
    }


DEBUG = _env_bool("DEBUG", True)
# Demo mode prints and uses the shared demo password; it must never be on in production.
DEMO_MODE = _env_bool("DEMO_MODE", DEBUG)
if DEMO_MODE and not DEBUG:
    raise ImproperlyConfigured("DEMO_MODE cannot be on while DEBUG is off")

if DEBUG:
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-do-not-use-in-production"
    ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
else:
    SECRET_KEY = _require("SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters with 5 distinct ones")
    ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.admin",
    "guardian",
    "axes",
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "viewflow",
    "viewflow.workflow",
    "certification",
    "workflows",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the collected static files from the application server itself: no separate web server is needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "certification.language.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # One object-permission cache per request: a transition checks each permission once (node and domain step).
    "certification.permission_cache.PermissionCacheMiddleware",
    # Before any view or the CSRF check reads a body: refuses an over-limit one from its Content-Length.
    "certification.middleware.RequestBodyLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "viewflow.middleware.SiteMiddleware",
    "workflows.frame.SiteFrameMiddleware",
    "viewflow.middleware.HotwireTurboMiddleware",
    "certification.middleware.DomainErrorMiddleware",
    "project.error_pages.NotFoundPageMiddleware",
    # Last, as django-axes asks: turns a refused (locked-out) sign-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "certification.context_processors.notifications",
                "workflows.frame.site_frame",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL") or "sqlite:///db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "certification.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, its model-wide permissions read in one query (certification.permission_cache).
    "certification.permission_cache.OneQueryModelBackend",
    # guardian's object permissions, each (user, object) read once per request (certification.permission_cache).
    "certification.permission_cache.CachedObjectPermissionBackend",
]
# guardian looks for its own backend by name; ours is its subclass (above), so its warning does not apply.
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes): after LOGIN_FAILURE_LIMIT failures for one username, or from one address, that
# username or address is refused for LOGIN_LOCKOUT_MINUTES. An administrator unlocks early in the admin (访问尝试)
# or with `manage.py axes_reset_username NAME` / `axes_reset_ip ADDRESS`. Each lockout is in the audit trail.
AXES_FAILURE_LIMIT = _env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=_env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "certification.views.accounts.lockout"
AXES_CLIENT_IP_CALLABLE = "certification.views.accounts.client_ip"
# How many reverse proxies in front of the server append to X-Forwarded-For; 0 means REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# django-guardian: no anonymous user row; anonymous visitors have no object permissions.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "certification" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
# Uploaded evidence lives outside static files and is served only by a permission-checked view.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
EVIDENCE_MAX_UPLOAD_BYTES = _env_int("EVIDENCE_MAX_UPLOAD_MB", 50, minimum=1) * 1024 * 1024
# Request bodies are refused by their Content-Length before anything reads them
# (certification.middleware.RequestBodyLimitMiddleware): an upload page takes one file up to the evidence limit
# plus the form around it; any other page of a signed-in user REQUEST_MAX_BODY_KB; anyone not signed in (the
# sign-in form) ANONYMOUS_MAX_BODY_KB.
UPLOAD_MAX_BODY_BYTES = EVIDENCE_MAX_UPLOAD_BYTES + 1024 * 1024
UPLOAD_URL_NAMES = frozenset(
    {
        "evidence_upload",
        "dataset_import",
        "scoring_workbook_upload",
        "standards_excel_import",
        "api-evidence-upload",
        "api-dataset-upload",
    }
)
REQUEST_MAX_BODY_BYTES = _env_int("REQUEST_MAX_BODY_KB", 2048, minimum=64) * 1024
ANONYMOUS_MAX_BODY_BYTES = _env_int("ANONYMOUS_MAX_BODY_KB", 64, minimum=8) * 1024
# The public objection form (no sign-in) takes one attachment up to PUBLIC_ATTACHMENT_MAX_BYTES and its fields.
PUBLIC_ATTACHMENT_MAX_BYTES = _env_int("PUBLIC_ATTACHMENT_MAX_MB", 10, minimum=1) * 1024 * 1024
PUBLIC_UPLOAD_VIEW_NAMES = frozenset({"public:objection"})
PUBLIC_UPLOAD_MAX_BODY_BYTES = PUBLIC_ATTACHMENT_MAX_BYTES + 64 * 1024
# Stream every upload to a temporary file: memory must not grow with file size.
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BODY_BYTES
FILE_UPLOAD_PERMISSIONS = 0o640
# Where evidence, data-set workbooks and exports are kept (`certification.uploads.keep`); see storage_from_url.
STORAGE_URL = os.environ.get("STORAGE_URL", "").strip()
# Failed and replaced imports' workbooks are removed this many days after; orphan files after this many hours.
IMPORT_WORKBOOK_RETENTION_DAYS = _env_int("IMPORT_WORKBOOK_RETENTION_DAYS", 30, minimum=1)
ORPHAN_GRACE_HOURS = _env_int("ORPHAN_GRACE_HOURS", 24, minimum=1)
STORAGES = {
    "default": storage_from_url(STORAGE_URL),
    # Production serves the files `collectstatic` wrote (make serve runs it) under names holding a hash of their
    # content, pre-compressed: WhiteNoise then lets browsers cache them for good, and a changed file gets a new URL.
    # Development and the tests read the apps' folders directly, with no collectstatic.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "project.static_storage.HashedStaticFilesStorage"
    },
}

# Deadlines of the workflow's human tasks, in working days after the task is created (holiday calendar:
# certification.domain.workdays). Formal review, scoring, each approval and objection handling follow the figures
# bureaus expect (issue 12); the rest are ours: a lead has a month per evidence stage, the office a week to name or
# replace evaluators, the panel lead a week to reconcile. 补正 is due on the deadline the office set on the request.
# Override one with TASK_DUE_DAYS_<NODE>, e.g. TASK_DUE_DAYS_SCORE=15. A published standard may give a step its own
# period (Standard.due_working_days, the workbook's sheet 办理期限), which then wins for the applications pinned to it.
# The policy texts behind the product (seed files 000–004) set no working-day period for any of these steps (the only 期限 in
# them is seed 002's rotation term of at least 3 years), so the shipped standards name none and these figures apply.
TASK_DUE_WORKING_DAYS = {
    node: _env_int(f"TASK_DUE_DAYS_{node.upper()}", days, minimum=1)
    for node, days in {
        "submit_basic": 20,
        "submit_process": 20,
        "submit_outcome": 20,
        "formal_review": 5,
        "assign_evaluators": 5,
        "score": 10,
        "replace_evaluator": 5,
        "reconcile": 5,
        "district_decision": 5,
        "city_review": 5,
        "city_decision": 5,
        "resolve_objections": 5,
        # The yearly review (年度评估): the lead has a month for the year's data and evidence, the office two weeks
        # to conclude, the leader a week to decide, the office a week to resolve objections.
        "review_submit_data": 20,
        # With a panel (Standard.yearly_evaluators): the office a week to name it, each evaluator two weeks for
        # their opinion (the scoring period of an application), then the office's two weeks to conclude.
        "review_assign_panel": 5,
        "review_give_opinion": 10,
        "review_conclude": 10,
        "review_leader_decision": 5,
        "review_resolve_objections": 5,
    }.items()
}
# The assignee (or the role's holders) is reminded this many working days before a task is due; the supervising
# role hears of it this many working days after (the overdue notice itself goes out the first day past due).
TASK_REMINDER_WORKING_DAYS_BEFORE = _env_int("TASK_REMINDER_WORKING_DAYS_BEFORE", 2, minimum=1)
TASK_ESCALATION_GRACE_WORKING_DAYS = _env_int("TASK_ESCALATION_GRACE_WORKING_DAYS", 3, minimum=1)
# An office's bulk export (申报汇总 of the applications it selects on its desk) takes at most this many at once.
EXPORT_SELECTION_MAX = _env_int("EXPORT_SELECTION_MAX", 500, minimum=1)

CELERY_BROKER_URL = _broker_url()
# Without a broker the embedded default runs tasks in-process, at once.
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Imports and exports refresh a heartbeat as they write; one silent for this long belonged to a worker that died.
CLAIM_STALE_SECONDS = _env_int("CLAIM_STALE_SECONDS", 120, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "fire-due-timers": {"task": "certification.fire_due_timers", "schedule": 60.0},
    "sweep-stale-claims": {"task": "certification.sweep_stale_claims", "schedule": 60.0},
    "task-deadline-reminders": {"task": "certification.send_deadline_reminders", "schedule": 3600.0},
    "workflow-task-deadlines": {"task": "certification.send_task_deadline_notices", "schedule": 3600.0},
    "sweep-storage": {"task": "certification.sweep_storage", "schedule": 86400.0},
    # Certificate expiry (到期) and the 90/30-day reminders; idempotent, so hourly keeps the lag after midnight short.
    "run-tier-timers": {"task": "certification.run_tier_timers", "schedule": 3600.0},
}
# Daily: verify the audit chain against the last anchor, alert the administrators on failure, else anchor again.
CELERY_BEAT_SCHEDULE["verify-and-anchor-audit"] = {"task": "certification.verify_and_anchor_audit", "schedule": 86400.0}

_cache_url = os.environ.get("CACHE_URL", "").strip()
if _cache_url:
    if urlparse(_cache_url).scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL, got {_cache_url!r}")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _env_int("EMAIL_PORT", 25, minimum=1)
# The e-mail task retries a failed send this many times, waiting about BACKOFF, 2×, 4×… seconds (full jitter, at
# most BACKOFF_MAX), then marks the notification's e-mail as given up (listed in the admin).
EMAIL_MAX_RETRIES = _env_int("EMAIL_MAX_RETRIES", 5, minimum=0)
EMAIL_RETRY_BACKOFF_SECONDS = _env_int("EMAIL_RETRY_BACKOFF_SECONDS", 30, minimum=1)
EMAIL_RETRY_BACKOFF_MAX_SECONDS = _env_int("EMAIL_RETRY_BACKOFF_MAX_SECONDS", 3600, minimum=1)
EMAIL_TIMEOUT = _env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "xuequ-renzheng@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address links in e-mails start with, e.g. https://renzheng.example.edu.cn (no trailing slash).
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
if not DEBUG and not SITE_URL:
    raise ImproperlyConfigured("SITE_URL must be set when DEBUG is off, so e-mailed links work")

# The audit chain's HMAC keys (never stored in the database); the first is used for new rows, the others verify
# older rows. Anchors of the chain's head go to a storage apart from the database and from MEDIA_ROOT.
AUDIT_KEYS = audit_keys_from_env(os.environ.get("AUDIT_KEYS"), debug=DEBUG, secret_key=SECRET_KEY)
AUDIT_ANCHOR_ROOT = Path(os.environ.get("AUDIT_ANCHOR_ROOT") or BASE_DIR / "audit-anchors")
STORAGES["audit_anchors"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": AUDIT_ANCHOR_ROOT, "file_permissions_mode": 0o640},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", [])
SECURE_CONTENT_TYPE_NOSNIFF = True
# No page may be framed, except the evidence preview the scoring sheet embeds (@xframe_options_sameorigin).
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp): scripts, styles, fonts, images and requests come from this site only, and no
# inline script runs (page behaviour is in certification/static/certification/js/pages.js). No inline style either: our
# templates use style sheets, except for a few inline styles of viewflow's and Turbo's, each allowed by the SHA-256
# of its exact text below ('unsafe-hashes' lets a hash allow a style attribute too). A nonce would not do: Turbo
# swaps the next page's body in under the first page's policy. tests/browser/test_content_security_policy.py walks
# the pages and fails on any refused style; tests/project/test_content_security_policy.py recomputes the hashes. The
# evidence preview sends its own, stricter policy (certification/views/evidence.py: PREVIEW_CSP), which the
# middleware leaves as it is.
STYLE_HASHES = {
    # viewflow/base_page.html: the sign-out button in the user menu, and its label.
    "width:100%;border:none;background-color:inherit": "g44oxfqrpMH6gsnZYMdZemnvUexSEJFnH3tBd1DJJVw=",
    "text-align:left": "De7agAeYqm6ANIVvRRW6HFWi52AJW8inhFE0gSdgXnI=",
    # Turbo's progress bar (viewflow/js/turbo.es2017-umd.js, ProgressBar.defaultCSS), added to every page's head.
    "turbo progress bar": "WAyOw4V+FqDc35lQPyRADLBWbuNK8ahvYEaQIYF1+Ps=",
    # The process chart's colours by task status (project/templates/viewflow/workflow/graph.svg, our copy of
    # viewflow's): drawn inline on an application's page and served alone as an image, so it carries its own rules.
    "viewflow process chart": "kcaiRBIQrHbIWXsX/ZaNBXPxhFdr0ImkxXt64A63kGY=",
}
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_HASHES, *(f"'sha256-{digest}'" for digest in STYLE_HASHES.values())],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (django-permissions-policy): no page needs a device or a sensor.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
    "fullscreen": ["self"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# The REST API (workflows/api): session for the browser, personal tokens for systems; one rate per token.
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "").strip() or "1200/hour"
if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", API_RATE_LIMIT):
    raise ImproperlyConfigured(
        f"API_RATE_LIMIT must look like 1200/hour (per second/minute/hour/day), got {API_RATE_LIMIT!r}"
    )
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workflows.api.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["workflows.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": API_RATE_LIMIT},
    "DEFAULT_PAGINATION_CLASS": "workflows.api.pagination.Pages",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "workflows.api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "workflows.api.errors.handle_exception",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "学区认证 API",
    "DESCRIPTION": "学区与教育集团认证的开放接口：与页面相同的规则、范围与权限。",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc come from our static files (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "workflows.api.schema.describe_generated_parts",
        "workflows.api.schema.add_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "TierEnum": "certification.models.tier.Tier",
        "CertifiableTierEnum": "certification.models.tier.CERTIFIABLE_CHOICES",
        "ApplicationStatusEnum": "certification.models.application.Application.Status",
        "StandardStatusEnum": "certification.models.standard.Standard.Status",
        "ImportStatusEnum": "certification.models.dataset.DatasetImport.Status",
        "StageStatusEnum": "certification.models.review.ApplicationStage.Status",
    },
}

VIEWFLOW = {}
SITE_TITLE = _("Cluster Certification")
