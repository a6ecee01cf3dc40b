"""gunicorn settings for 学区认证: `make serve`, or `gunicorn -c project/gunicorn.conf.py project.wsgi`.

Sync workers, four a core, behind the reverse proxy (README: Production). A page is mostly CPU (tens of ms of
Python, a few queries), so the two cores, not the number of threads, bound throughput; what the worker model decides
is who waits. A gthread worker keeps each client's kept-alive connection for good once it has accepted it, however
many it already holds, so some workers serve more users than others and their users wait longer: with 20 signed-in
users on 4 workers × 4 threads the slowest twentieth of requests took 5.7× the median (bench/server.py, 2026-11-30
morning: p50 589 ms, p95 3,374 ms). A sync worker takes one request, answers it and closes the connection, so every request
queues once, in arrival order, on the shared listening socket; the next free worker takes the oldest. Four a core
(gunicorn's advice is 2-4) keep both cores busy while some workers wait on the database; measured on this 2-core
machine, 8 sync workers had the lowest p95 and the highest throughput of gthread 4×4 and sync ×4/×8. The proxy
keeps browsers' connections alive and buffers slow clients, which a sync worker must not wait for. Every value can
be set from the environment.
"""

import os


def _int(name, default):
    return int(os.environ.get(name) or default)


bind = os.environ.get("BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = _int("WEB_CONCURRENCY", 4 * (os.cpu_count() or 1))
# Used only if GUNICORN_WORKER_CLASS=gthread is chosen.
threads = _int("GUNICORN_THREADS", 1)
# Each worker keeps its PostgreSQL connection between requests (one per sync worker) rather than PostgreSQL starting
# a backend for every page. Set here, not in settings.py, because runserver's thread per request could never reuse
# one; the settings read it when the app is loaded, after this file.
os.environ.setdefault("DB_CONN_MAX_AGE", "60")
# Import Django once in the master: workers fork from it, start at once and share the imported code's memory.
preload_app = True
# A request that runs this long is a bug or an attack; the worker is replaced (exports and imports run in Celery).
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
# Only for gthread: sync workers close every connection after its answer.
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
