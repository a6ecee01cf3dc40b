"""project/settings.py read in a fresh interpreter with a chosen environment, as a deployment would start it."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables the settings read; each test starts from none of them (CI's second pass sets some in its environment).
SETTINGS_VARIABLES = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "CELERY_RESULT_BACKEND",
    "CACHE_URL",
    "DEBUG",
    "DEMO_MODE",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "DB_CONN_MAX_AGE",
    "EMAIL_BACKEND",
    "EMAIL_PORT",
    "DJANGO_SETTINGS_MODULE",
    "AUDIT_KEYS",
    "AUDIT_ANCHOR_ROOT",
}
PRODUCTION_KEY = "k7#Qx9!vR2@mL5$wT8^zN1&bY4*eH6(uJ3)pC0-sF9+dG2=aK5"
PRODUCTION_AUDIT_KEYS = (
    "k2:c2Vjb25kLWF1ZGl0LWtleS0zMi1ieXRlcy1sb25nISE=,k1:Zmlyc3QtYXVkaXQta2V5LTMyLWJ5dGVzLWxvbmchISE="
)
SHOW_SETTINGS = """
import json
import re
import django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "user": db.get("USER"), "password": db.get("PASSWORD"),
    "host": db.get("HOST"), "port": db.get("PORT"), "options": db.get("OPTIONS"),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER, "broker": settings.CELERY_BROKER_URL,
    "debug": settings.DEBUG, "demo": settings.DEMO_MODE, "language": settings.LANGUAGE_CODE,
    "languages": [code for code, _name in settings.LANGUAGES], "time_zone": settings.TIME_ZONE,
    "audit_keys": {key_id: len(secret) for key_id, secret in settings.AUDIT_KEYS.items()},
}))
"""


def run(args, **env):
    environment = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    environment.update(env, DJANGO_SETTINGS_MODULE="project.settings")
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=120
    )


def settings_with(**env):
    result = run(["-c", SHOW_SETTINGS], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_settings_without_environment_use_sqlite_in_the_project_folder_and_eager_celery():
    values = settings_with()

    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(BASE_DIR / "db.sqlite3")
    assert values["eager"] is True
    assert values["broker"] == ""
    assert values["debug"] is True
    assert values["language"] == "zh-hans"
    assert values["languages"] == ["zh-hans", "en"]
    assert values["time_zone"] == "Asia/Shanghai"


def test_settings_with_postgres_url_parse_every_field():
    values = settings_with(DATABASE_URL="postgres://xqrz_app:p%40ss%3Aword@db.internal:6543/xqrz?sslmode=require")

    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "xqrz"
    assert values["user"] == "xqrz_app"
    assert values["password"] == "p@ss:word"
    assert values["host"] == "db.internal"
    assert values["port"] == "6543"
    # JIT off unless the URL says otherwise (see project/settings.py).
    assert values["options"] == {"sslmode": "require", "options": "-c jit=off"}


def test_settings_with_postgres_url_keep_the_urls_own_options():
    values = settings_with(DATABASE_URL="postgres://u@db/xqrz?options=-c%20statement_timeout%3D5000")

    assert values["options"] == {"options": "-c statement_timeout=5000"}


def test_settings_with_sqlite_url_use_that_file():
    values = settings_with(DATABASE_URL="sqlite:////tmp/xqrz-settings-test.sqlite3")

    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == "/tmp/xqrz-settings-test.sqlite3"


@pytest.mark.parametrize("broker", ["redis://127.0.0.1:6379/0", "amqp://guest:guest@127.0.0.1:5672//"])
def test_settings_with_broker_url_run_tasks_on_the_broker(broker):
    values = settings_with(CELERY_BROKER_URL=broker)

    assert values["eager"] is False
    assert values["broker"] == broker


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_URL": "mysql://root@127.0.0.1/xqrz"},
            "DATABASE_URL must start with sqlite:// or postgres://, got 'mysql'",
        ),
        (
            {"DATABASE_URL": "postgres://xqrz@127.0.0.1:port/xqrz"},
            "DATABASE_URL 'postgres://xqrz@127.0.0.1:port/xqrz' has a bad port",
        ),
        ({"DATABASE_URL": "postgres://xqrz@127.0.0.1:5432/"}, "names no database"),
        ({"DEBUG": "maybe"}, "DEBUG must be one of 1/0/true/false/yes/no/on/off, got 'maybe'"),
        (
            {"CELERY_BROKER_URL": "http://127.0.0.1:6379/0"},
            "CELERY_BROKER_URL must be a redis:// or amqp:// URL, got 'http://127.0.0.1:6379/0'",
        ),
        ({"EMAIL_PORT": "twenty-five"}, "EMAIL_PORT must be an integer, got 'twenty-five'"),
        ({"DEBUG": "0"}, "SECRET_KEY must be set when DEBUG is off"),
        ({"DEBUG": "0", "SECRET_KEY": "short"}, "SECRET_KEY must be at least 50 characters with 5 distinct ones"),
        ({"DEBUG": "0", "SECRET_KEY": PRODUCTION_KEY}, "ALLOWED_HOSTS must be set when DEBUG is off"),
        (
            {"DEBUG": "0", "SECRET_KEY": PRODUCTION_KEY, "ALLOWED_HOSTS": "xq.example.cn"},
            "SITE_URL must be set when DEBUG is off, so e-mailed links work",
        ),
        (
            {"DEBUG": "0", "DEMO_MODE": "1", "SECRET_KEY": PRODUCTION_KEY, "ALLOWED_HOSTS": "xq.example.cn"},
            "DEMO_MODE cannot be on while DEBUG is off",
        ),
        (
            {"DEBUG": "0", "SECRET_KEY": PRODUCTION_KEY, "ALLOWED_HOSTS": "xq.example.cn", "SITE_URL": "https://x.cn"},
            "AUDIT_KEYS must be set when DEBUG is off",
        ),
        ({"AUDIT_KEYS": "k1"}, "AUDIT_KEYS entries must read <key id>:<base64 secret>"),
        ({"AUDIT_KEYS": "k1:not base64!"}, "AUDIT_KEYS key 'k1' is not valid base64"),
        ({"AUDIT_KEYS": "k1:c2hvcnQ="}, "AUDIT_KEYS key 'k1' must decode to at least 16 bytes"),
        (
            {
                "AUDIT_KEYS": "k1:Zmlyc3QtYXVkaXQta2V5LTMyLWJ5dGVzLWxvbmchISE=,k1:Zmlyc3QtYXVkaXQta2V5LTMyLWJ5dGVzLWxvbmchISE="
            },
            "AUDIT_KEYS names key id 'k1' twice",
        ),
    ],
)
def test_settings_with_bad_value_stop_start_up_with_improperly_configured(env, message):
    result = run(["manage.py", "check"], **env)

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: " in result.stderr
    assert message in result.stderr


def test_settings_in_production_mode_pass_the_deploy_check():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="0",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="xuequ.example.cn",
        SITE_URL="https://xuequ.example.cn",
        AUDIT_KEYS=PRODUCTION_AUDIT_KEYS,
        CSRF_TRUSTED_ORIGINS="https://xuequ.example.cn",
        DATABASE_URL="postgres://xqrz@127.0.0.1:5432/xqrz",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_settings_in_production_mode_turn_demo_mode_off():
    values = settings_with(
        DEBUG="0",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="xuequ.example.cn",
        SITE_URL="https://xuequ.example.cn",
        AUDIT_KEYS=PRODUCTION_AUDIT_KEYS,
    )

    assert values["debug"] is False
    assert values["demo"] is False


def test_settings_audit_keys_keep_their_order_the_first_is_current():
    values = settings_with(AUDIT_KEYS=PRODUCTION_AUDIT_KEYS)

    assert list(values["audit_keys"].items()) == [("k2", 32), ("k1", 32)]


def test_settings_without_audit_keys_in_debug_derive_one_development_key():
    assert settings_with()["audit_keys"] == {"dev": 32}


# Collects the static files as `make serve` does, then renders the sign-in page and fetches its style sheet and
# script as a browser would; prints what the test compares.
STATIC_PAGE = """
import json, re
import django
from django.conf import settings
from django.core.management import call_command
django.setup()
call_command("collectstatic", "--noinput", verbosity=0)
from django.test import Client
client = Client()
page = client.get("/accounts/login/", secure=True)
urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.content.decode())
asset = client.get(urls[-1], secure=True)
print(json.dumps({
    "status": page.status_code, "urls": urls, "asset_status": asset.status_code,
    "cache_control": asset.headers.get("Cache-Control", ""),
}))
"""


def test_settings_in_production_mode_serve_static_files_under_hashed_names_cached_for_good(tmp_path):
    result = run(
        ["-c", STATIC_PAGE],
        DEBUG="0",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="testserver",
        SITE_URL="https://xuequ.example.cn",
        AUDIT_KEYS=PRODUCTION_AUDIT_KEYS,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])

    assert values["status"] == 200
    assert values["urls"], "the sign-in page links no static file"
    # Every static URL carries a hash of its content (name.0123456789ab.ext), so it may be cached for good.
    unhashed = [url for url in values["urls"] if not re.search(r"\.[0-9a-f]{12}\.\w+$", url)]
    assert unhashed == []
    assert values["asset_status"] == 200
    assert "immutable" in values["cache_control"]
    assert "max-age=315360000" in values["cache_control"]


def test_settings_in_development_serve_static_files_from_the_apps_without_collectstatic():
    result = run(
        [
            "-c",
            "import django; from django.templatetags.static import static; django.setup(); "
            "print(static('certification/js/pages.js'))",
        ]
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "/static/certification/js/pages.js"
