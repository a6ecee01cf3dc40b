"""Request bodies are refused by their Content-Length before anything reads them; scope comes before the body.

These drive the WSGI application itself with a body stream that counts what is read from it, as a server would
hand it over: a test client request has its body in memory already and could not show that nothing was read.
"""

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from certification.models import ClusterMembership, DatasetImport
from tests.factories import UserFactory
from tests.factories.datasets import computed_standard, data_application, data_cluster, lead

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


class CountingBody(io.RawIOBase):
    """A request body of `size` bytes (`content`, else "x"s) produced only when read; counts how many were."""

    def __init__(self, size, content=None):
        self.size, self.content, self.read_bytes = size, content, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        count = min(len(buffer), self.size - self.read_bytes)
        if self.content is None:
            buffer[:count] = b"x" * count
        else:
            buffer[:count] = self.content[self.read_bytes : self.read_bytes + count]
        self.read_bytes += count
        return count

    def readline(self, size=-1):
        return self.read(64 * 1024 if size is None or size < 0 else size)


def _call(
    path,
    *,
    length,
    content=None,
    method="POST",
    cookies="",
    content_type="multipart/form-data; boundary=xqrz",
    extra=None,
):
    body = CountingBody(length, content)
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(length),
        "HTTP_COOKIE": cookies,
        "wsgi.input": body,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        **(extra or {}),
    }
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = status, dict(headers)

    # As Django's test client does: the request must not close the test's database connection (its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with override_settings(DEBUG_PROPAGATE_EXCEPTIONS=True):
            content = b"".join(WSGIHandler()(environ, start_response)).decode()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(started["status"].split()[0]), content, body.read_bytes


# With a CSRF cookie present the CSRF check reads the form (the body) to find the token, as for a real browser.
CSRF_SECRET = "abcdefghijklmnopqrstuvwxyzABCDEF"
CSRF_COOKIE = f"csrftoken={CSRF_SECRET}"


def _session_cookie(user):
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}; {CSRF_COOKIE}"


@pytest.fixture
def cluster():
    return data_cluster(("天平路小学", ["primary"], ClusterMembership.Role.LEAD), ("湖南路小学", ["primary"]))


@pytest.fixture
def application(cluster):
    return data_application(cluster, computed_standard(("backbone_share_same_stage", "gte", "0.20")))


def test_anonymous_300_mb_post_to_the_login_page_is_refused_unread():
    status, content, read = _call(
        reverse("login"), length=300 * MB, cookies=CSRF_COOKIE, content_type="application/x-www-form-urlencoded"
    )

    assert (status, read) == (413, 0)
    assert "请求过大" in content
    assert "请求大小为 300.0\xa0MB，本页最多接受 64.0\xa0KB" in content


def test_signed_in_post_over_the_page_limit_is_refused_unread(user):
    status, content, read = _call(
        "/",
        length=settings.REQUEST_MAX_BODY_BYTES + 1,
        cookies=_session_cookie(user),
    )

    assert (status, read) == (413, 0)
    assert "请求过大" in content


def test_upload_page_takes_the_upload_limit_and_refuses_more_unread(cluster, application):
    cookies = _session_cookie(lead(cluster))
    url = reverse("dataset_import", args=[application.pk, "rotation"])

    status, content, read = _call(url, length=settings.UPLOAD_MAX_BODY_BYTES + 1, cookies=cookies)

    assert (status, read) == (413, 0)
    assert "请求过大" in content
    assert settings.UPLOAD_MAX_BODY_BYTES > settings.REQUEST_MAX_BODY_BYTES


def test_upload_within_the_limit_is_read_by_the_lead(cluster, application):
    cookies = _session_cookie(lead(cluster))
    url = reverse("dataset_import", args=[application.pk, "rotation"])
    upload = SimpleUploadedFile("名单.xlsx", b"not a workbook " * 100_000)
    content = encode_multipart(BOUNDARY, {"csrfmiddlewaretoken": CSRF_SECRET, "file": upload})

    status, _page, read = _call(
        url, length=len(content), content=content, cookies=cookies, content_type=MULTIPART_CONTENT
    )

    assert (status, read) == (400, len(content))


@pytest.mark.parametrize("who", ["outsider", "reader"])
def test_data_set_import_checks_scope_before_reading_the_body(cluster, application, who):
    user = UserFactory() if who == "outsider" else UserFactory(is_superuser=True)
    url = reverse("dataset_import", args=[application.pk, "rotation"])

    status, _content, read = _call(url, length=40 * MB, cookies=_session_cookie(user))

    # Outside the scope: not found; in it but not the lead: refused. Either way nothing of the body is read.
    assert (status, read) == ((404, 0) if who == "outsider" else (403, 0))
    assert DatasetImport.objects.count() == 0


def test_chunked_body_without_a_length_is_refused():
    status, content, read = _call(
        reverse("login"), length=0, extra={"HTTP_TRANSFER_ENCODING": "chunked", "CONTENT_LENGTH": ""}
    )

    assert (status, read) == (411, 0)
    assert "Content-Length" in content
