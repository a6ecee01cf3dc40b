"""gunicorn settings for 学区认证: `make serve`, or `gunicorn -c project/gunicorn.conf.py project.wsgi`.

Sync workers, one a core, each keeping its PostgreSQL connection. These pages are CPU work (a page is ~20 ms, most of
it Python), so one request a core at a time, taken from the shared socket in arrival order, is both the fastest and
the fairest: no worker holds more clients than another, no two requests share a core's time. Measured with
`bench/server.py` on this 2-core machine, 20 signed-in users without pause on the lead's page and 审批队列
(PostgreSQL, 2026-11-30, quiet machine), one run each:

    sync × 2          103 req/s, p50 190 ms, p95 230 ms (single user p50 18 ms)
    sync × 3 / × 4     75–85 req/s, p95 264–303 ms
    gthread 2 × 1     101 req/s, p50 132 ms, p95 299 ms: a kept-alive client stays with the worker that accepted it,
                      and the busier worker's clients wait twice as long
    gthread 4 × 4      69 req/s, p95 585 ms (four threads of one process take turns on its interpreter lock)

A sync worker is busy for the whole of a slow client's request: production puts a reverse proxy in front (README:
Production) that buffers request and response bodies (nginx does by default), so a worker only ever talks to it.
Every value can be set from the environment (WEB_CONCURRENCY, GUNICORN_WORKER_CLASS, GUNICORN_THREADS,
GUNICORN_KEEPALIVE).
"""

import os


def _int(name, default):
    return int(os.environ.get(name) or default)


bind = os.environ.get("BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = _int("WEB_CONCURRENCY", os.cpu_count() or 1)
threads = _int("GUNICORN_THREADS", 1)
# Each worker keeps its PostgreSQL connection between requests rather than PostgreSQL starting
# a backend for every page. Set here, not in settings.py, because runserver's thread per request could never reuse
# one; the settings read it when the app is loaded, after this file.
os.environ.setdefault("DB_CONN_MAX_AGE", "60")
# Import Django once in the master: workers fork from it, start at once and share the imported code's memory.
preload_app = True
# A request that runs this long is a bug or an attack; the worker is replaced (exports and imports run in Celery).
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
# Kept-alive connections matter to threaded workers only (GUNICORN_WORKER_CLASS=gthread); sync workers close each.
keepalive = _int("GUNICORN_KEEPALIVE", 2)
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# Heartbeat files in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
# Behind a reverse proxy on this machine only; X-Forwarded-* from anywhere else is ignored.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No gunicornc control socket: nothing here uses it, and two servers on one machine would share its path.
control_socket_disable = True


def pre_request(worker, req):
    """Close, rather than drain, the connection of a request whose body is over the page limit.

    Django refuses such a body from its Content-Length without reading it
    (certification.middleware.RequestBodyLimitMiddleware); gunicorn would otherwise read the unread rest of it
    before the next request on a kept-alive connection. An accepted upload's body is read whole, so closing its
    connection afterwards costs nothing but a new connection.
    """
    from django.conf import settings

    length = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), None)
    if length is not None and length.isdigit() and int(length) > settings.REQUEST_MAX_BODY_BYTES:
        req.force_close()
