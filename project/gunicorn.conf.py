"""gunicorn settings for 学区认证: `make serve`, or `gunicorn -c project/gunicorn.conf.py project.wsgi`.

Threaded workers (gthread), two processes a core with four threads each, each thread keeping its PostgreSQL
connection. Measured with bench/server.py on this 2-core machine (20 signed-in users, 2026-11-30, load average ~6):
gthread 4×4 served 12.5 req/s, p50 1,443 ms, p95 2,798 ms; sync workers ×8 (one request per process, connections
closed, taken in arrival order from the shared socket) were fairer (p95 1.2× their p50 against 1.9×) but served
7.6 req/s with p95 3,088 ms. gthread keeps a kept-alive client in the worker that accepted it, so workers can be
unevenly loaded; its higher throughput still gave every user the shorter wait. Under heavy load from other
programs (load average 10-16) sync ×8 did better (p95 1.1-1.2× its p50), so WEB_CONCURRENCY and
GUNICORN_WORKER_CLASS=sync remain the knobs to try. Every value can be set from the environment.
"""

import os


def _int(name, default):
    return int(os.environ.get(name) or default)


bind = os.environ.get("BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = _int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1))
threads = _int("GUNICORN_THREADS", 4)
# Each worker thread keeps its PostgreSQL connection between requests rather than PostgreSQL starting
# a backend for every page. Set here, not in settings.py, because runserver's thread per request could never reuse
# one; the settings read it when the app is loaded, after this file.
os.environ.setdefault("DB_CONN_MAX_AGE", "60")
# Import Django once in the master: workers fork from it, start at once and share the imported code's memory.
preload_app = True
# A request that runs this long is a bug or an attack; the worker is replaced (exports and imports run in Celery).
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 2
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
