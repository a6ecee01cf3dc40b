"""Benchmarks against a real server on PostgreSQL: request-body memory, and load on gunicorn next to runserver.

Both start the server as production would (DEBUG off) on 127.0.0.1:8103 over a throw-away PostgreSQL database
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/xqrz_bench) loaded with the demo data. Every
request goes to that local address only, and every loop is bounded in count and time.

"bodies" (gunicorn, one worker so its memory is the server's): the worker's resident set size is sampled every
10 ms while a client sends (a) an anonymous 300 MB POST to the sign-in page, (b) a signed-in lead's 300 MB POST to
an upload page (over its 256 MB limit), (c) a 200 MB evidence upload that is accepted. The figure is the growth of
the worker's RSS over its size before the request. Goal: at most 20 MB each.

"load": the cluster lead's page (我的申报) and the district leader's approval queue (审批队列), first by one user
(p50), then by 20 signed-in users at once (10 leads, 10 leaders, each a thread with its own kept-alive connection)
for LOAD_SECONDS, on gunicorn (make serve's settings) and then on runserver, in the same run. Reported: p50/p95,
requests per second, errors (any answer but 200, or a failed connection). Goal: 0 errors, gunicorn's throughput at
least twice runserver's, gunicorn's p95 at 20 users at most 10 × its single-user p50.

The 20 users are measured twice on gunicorn. Users who never pause give the throughput: every core is busy all the
time. But 20 of them on 2 cores queue for at least 20 × (CPU per request) ÷ 2 on average (Little's law), above 10 ×
the single-user p50 whatever the pages cost, so the p95 is also measured with 20 users as people use the site:
each reads a page for PAUSE_SECONDS (a random time in that range, the same sequence every run) before the next.
"""

import base64
import http.client
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

from bench import percentile

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
HOST, PORT = "127.0.0.1", 8103
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xqrz_bench")
DEMO_PASSWORD = "xuequ-demo-2026"
MB = 1024 * 1024
LOAD_USERS = 20
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", 20))
# The 20 users run this long before anything is counted, so that each worker has loaded what it loads once.
WARMUP_SECONDS = 8
LOAD_MAX_REQUESTS_PER_USER = 2000
SINGLE_USER_REQUESTS = 40
# How long a person reads a page before the next one, in the second 20-user measurement (seconds, uniform).
PAUSE_SECONDS = (1.0, 3.0)
CASES = ["bodies", "load"]


# --------------------------------------------------------------------------------------------- the server


def _environment(media, static):
    return {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "DEBUG": "0",
        "DEMO_MODE": "0",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
        # Production refuses to start without the audit chain's key, which lives outside the database.
        "AUDIT_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": HOST,
        "SITE_URL": f"http://{HOST}:{PORT}",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "MEDIA_ROOT": media,
        "STATIC_ROOT": static,
        "CELERY_BROKER_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "EVIDENCE_MAX_UPLOAD_MB": "256",
        "LOG_LEVEL": "WARNING",
        # Every bench user signs in from 127.0.0.1; none fails, but the sign-in limit must not count them anyway.
        "LOGIN_FAILURE_LIMIT": "1000",
    }


def _manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _prepare():
    """A fresh database with the demo data, static files collected; returns the server environment."""
    import psycopg

    # Parsed here, not with project.settings: importing the settings now would fix them before the bench's own.
    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    with psycopg.connect(
        host=url.hostname, port=url.port or 5432, user=url.username or "postgres", dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    env = _environment(tempfile.mkdtemp(prefix="xqrz-bench-media-"), tempfile.mkdtemp(prefix="xqrz-bench-static-"))
    _manage(env, "compile_catalogue")
    _manage(env, "migrate", "--noinput")
    _manage(env, "collectstatic", "--noinput")
    # The demo users and their password exist only through demo mode; the servers then run without it.
    _manage({**env, "DEBUG": "1", "DEMO_MODE": "1"}, "load_demo")
    return env


class Server:
    def __init__(self, kind, env, workers=None):
        self.kind = kind
        if kind == "gunicorn":
            command = [GUNICORN, "-c", "project/gunicorn.conf.py", "--bind", f"{HOST}:{PORT}", "project.wsgi"]
            env = {**env, "WEB_CONCURRENCY": str(workers)} if workers else env
        else:
            command = [PYTHON, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**env, "GUNICORN_CMD_ARGS": "--access-logfile=/dev/null"}, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _headers, _body = Client().request("GET", "/accounts/login/")
                if status == 200:
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"{kind} did not answer on {HOST}:{PORT} within 60 s")

    def worker_pids(self):
        if self.kind != "gunicorn":
            return [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _rss(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class RssSampler:
    """The highest RSS of `pid` seen every 10 ms while the block runs, and the RSS before it."""

    def __init__(self, pid):
        self.pid, self.peak, self.stopped = pid, 0, threading.Event()

    def __enter__(self):
        time.sleep(0.5)  # let the worker settle after the previous request
        self.before = _rss(self.pid)
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while not self.stopped.is_set():
            self.peak = max(self.peak, _rss(self.pid))
            time.sleep(0.01)

    def __exit__(self, *exc):
        time.sleep(0.3)
        self.stopped.set()
        self.thread.join()

    @property
    def growth(self):
        return max(0, self.peak - self.before)


# --------------------------------------------------------------------------------------------- the client


class Client:
    """One user's kept-alive connection with its cookies (set by hand: the session cookie is Secure off DEBUG)."""

    def __init__(self):
        self.cookies = {}
        self.connection = None

    def _connection(self):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(HOST, PORT, timeout=120)
        return self.connection

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                content = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed a kept-alive connection between requests: reconnect once, as browsers do.
                connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        return response.status, response.headers, content

    def sign_in(self, username):
        self.request("GET", "/accounts/login/")
        form = {"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": self.cookies["csrftoken"]}
        status, _headers, _content = self.request(
            "POST",
            "/accounts/login/",
            body=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://{HOST}:{PORT}/"},
        )
        if status != 302:
            raise SystemExit(f"{username} could not sign in (HTTP {status})")
        return self

    def close(self):
        if self.connection is not None:
            self.connection.close()


def _stream(path, *, length, chunks, cookies=None, content_type="application/x-www-form-urlencoded"):
    """Send a `length`-byte body made of `chunks` on a new connection, stopping if the server hangs up; return
    the HTTP status of its answer (None if it closed without one) and how many bytes went out."""
    connection = http.client.HTTPConnection(HOST, PORT, timeout=120)
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", content_type)
    connection.putheader("Content-Length", str(length))
    if cookies:
        connection.putheader("Cookie", "; ".join(f"{name}={value}" for name, value in cookies.items()))
    connection.endheaders()
    sent = 0
    try:
        for chunk in chunks:
            connection.send(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        status = connection.getresponse().status
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        status = None
    connection.close()
    return status, sent


def _filler(size, piece=MB):
    block = b"\0" * piece
    while size > 0:
        yield block[: min(piece, size)]
        size -= piece


# --------------------------------------------------------------------------------------------- the cases


def _django(env):
    """Django in this process, on the bench database, to look up ids and URLs (the server runs elsewhere)."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    import django

    django.setup()
    from django.urls import reverse

    # Building the URLconf registers the flow's URL namespaces (as the test suite's fixtures do).
    reverse("workflow:inbox")


def _lead_application(lead):
    """Start 天平-湖南学区's 市级示范性 application over HTTP as its lead; return (application, an upload URL).

    The demo gives 天平-湖南学区 紧密型 since 2019 and 区级示范性 since 2024-09-01, so 市级 is the tier it may apply for.
    """
    from django.urls import reverse

    from certification.domain.evidence import requirements_of
    from certification.models import Application, Cluster
    from workflows.flows import CertificationFlow

    cluster = Cluster.objects.get(name__contains="天平")
    start = CertificationFlow.start.reverse("execute")
    lead.request("GET", start)
    form = {"cluster": cluster.pk, "target_tier": "city_model", "csrfmiddlewaretoken": lead.cookies["csrftoken"]}
    status, _headers, content = lead.request(
        "POST", start, body=urlencode(form), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    if status != 302:
        raise SystemExit(f"could not start the application (HTTP {status}): {content[:300]!r}")
    application = Application.objects.filter(cluster=cluster).order_by("-pk").first()
    requirement = requirements_of(application).first()
    return application, reverse("evidence_upload", args=[application.pk, requirement.pk])


def _multipart(token, size):
    """A multipart body holding the CSRF token and a `size`-byte MP4 (a valid ftyp box, then zeros), streamed."""
    boundary = "xqrzbench" + secrets.token_hex(8)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="课堂实录.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41"
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + size + len(tail)

    def chunks():
        yield head + ftyp
        yield from _filler(size - len(ftyp))
        yield tail

    return f"multipart/form-data; boundary={boundary}", length, chunks()


def run_bodies():
    env = _prepare()
    _django(env)
    server = Server("gunicorn", env, workers=1)
    results = []
    try:
        (worker,) = server.worker_pids()
        lead = Client().sign_in("lead_tianping")
        _application, upload_url = _lead_application(lead)
        cases = [
            ("anonymous 300 MB POST to the sign-in page", "/accounts/login/", 300 * MB, None, 413, None),
            ("signed-in 300 MB POST to an upload page", upload_url, 300 * MB, lead.cookies, 413, None),
            ("signed-in 200 MB evidence upload (accepted)", upload_url, None, lead.cookies, 302, 200 * MB),
        ]
        for label, path, length, cookies, expected, upload_size in cases:
            if upload_size:
                content_type, length, chunks = _multipart(lead.cookies["csrftoken"], upload_size)
            else:
                content_type, chunks = "application/x-www-form-urlencoded", _filler(length)
            started = time.perf_counter()
            with RssSampler(worker) as sampler:
                status, sent = _stream(path, length=length, chunks=chunks, cookies=cookies, content_type=content_type)
            seconds = time.perf_counter() - started
            ok = "ok" if status in (expected, None) and sampler.growth <= 20 * MB else "OVER GOAL"
            results.append(
                {
                    "label": f"server RSS: {label}",
                    "seconds": seconds,
                    "peak": sampler.growth,
                    "note": f"HTTP {status}, {sent / MB:.0f} MB sent, RSS +{sampler.growth / MB:.1f} MB "
                    f"(goal ≤ 20 MB: {ok})",
                }
            )
        lead.close()
    finally:
        server.stop()
    return results


def _machine_ticks():
    """(busy, all) CPU clock ticks of the whole machine so far, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields) - idle, sum(fields)


def _process_ticks(pids):
    """CPU clock ticks (user + system) used so far by the processes `pids`."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the line)
    return total


def _database_pids():
    """PostgreSQL's backends serving the bench database (kept between requests under gunicorn: DB_CONN_MAX_AGE)."""
    name = urlparse(DATABASE_URL).path.lstrip("/").encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(b"postgres: ") and b" " + name + b" " in command:
                pids.append(int(entry.name))
    return pids


class CpuWindow:
    """Where the machine's CPU went between `start()` and `stop()`, in seconds: the server's processes, its
    database backends, this load generator, and anything else running on the machine."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, server_pids):
        self.server_pids = server_pids

    def _snapshot(self):
        busy, _all = _machine_ticks()
        return (
            busy / self.TICK,
            _process_ticks(self.server_pids) / self.TICK,
            _process_ticks(self.database_pids) / self.TICK,
            time.process_time(),
        )

    def start(self):
        self.database_pids = _database_pids()
        self.before = self._snapshot()

    def stop(self):
        after = self._snapshot()
        busy, server, database, client = (end - begin for end, begin in zip(after, self.before, strict=True))
        self.busy, self.server, self.database, self.client = busy, server, database, client
        self.other = max(0.0, busy - server - database - client)


def _load(kind, env, pages, *, pause=None):
    """One user's p50, then 20 users' figures; `pause`: (low, high) seconds each user reads a page before the next."""
    server = Server(kind, env)
    try:
        # One user first: the single-user p50 that the 20-user p95 is judged against.
        single = {"lead": Client().sign_in("lead_tianping"), "leader": Client().sign_in("leader_xuhui")}
        for role, client in single.items():
            for _ in range(5):
                client.request("GET", pages[role])
        single_times = []
        for number in range(SINGLE_USER_REQUESTS):
            role = ("lead", "leader")[number % 2]
            started = time.perf_counter()
            status, _headers, _content = single[role].request("GET", pages[role])
            single_times.append(time.perf_counter() - started)
            if status != 200:
                raise SystemExit(f"{kind}: {pages[role]} answered HTTP {status} to one user")
        for client in single.values():
            client.close()

        users = [
            (role, Client().sign_in("lead_tianping" if role == "lead" else "leader_xuhui"))
            for role in ["lead", "leader"] * (LOAD_USERS // 2)
        ]
        times, errors, barrier = [], [], threading.Barrier(LOAD_USERS + 1)
        lock = threading.Lock()
        deadline, measured_from = [0.0], [0.0]

        def user(number, role, client):
            mine, failed = [], []
            reading = random.Random(number)  # the same pauses every run
            barrier.wait()
            for count in range(LOAD_MAX_REQUESTS_PER_USER):
                if pause and count:
                    time.sleep(reading.uniform(*pause))
                started = time.perf_counter()
                if started >= deadline[0]:
                    break
                try:
                    status, _headers, _content = client.request("GET", pages[role])
                except OSError as error:
                    failed.append(repr(error))
                    continue
                if started < measured_from[0]:
                    continue  # warming up: every worker loads its templates and catalogues once
                mine.append(time.perf_counter() - started)
                if status != 200:
                    failed.append(f"HTTP {status}")
            with lock:
                times.extend(mine)
                errors.extend(failed)
            client.close()

        threads = [threading.Thread(target=user, args=(number, *pair)) for number, pair in enumerate(users)]
        for thread in threads:
            thread.start()
        measured_from[0] = time.perf_counter() + WARMUP_SECONDS
        deadline[0] = measured_from[0] + LOAD_SECONDS
        cpu = CpuWindow(sorted({server.process.pid, *server.worker_pids()}))
        barrier.wait()
        time.sleep(max(0.0, measured_from[0] - time.perf_counter()))
        cpu.start()
        time.sleep(max(0.0, deadline[0] - time.perf_counter()))
        cpu.stop()
        for thread in threads:
            thread.join(timeout=WARMUP_SECONDS + LOAD_SECONDS + 180)
        elapsed = LOAD_SECONDS
    finally:
        server.stop()
    served = max(1, len(times))
    return {
        # CPU per request served in the measured window: the server's processes, the load generator, the rest.
        "cpu_server": cpu.server / served,
        "cpu_database": cpu.database / served,
        "cpu_client": cpu.client / served,
        "cpu_other": cpu.other / served,
        "busy": cpu.busy / (elapsed * (os.cpu_count() or 1)),
        "p50_1": statistics.median(single_times),
        "p50": percentile(times, 0.50),
        "p95": percentile(times, 0.95),
        "rps": len(times) / elapsed,
        "requests": len(times),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "seconds": elapsed,
    }


def run_load():
    env = _prepare()
    _django(env)
    from django.urls import reverse

    pages = {"lead": reverse("work:mine"), "leader": reverse("work:approvals")}
    server = Server("gunicorn", env)
    try:
        lead = Client().sign_in("lead_tianping")
        _lead_application(lead)
        lead.close()
    finally:
        server.stop()
    figures = {kind: _load(kind, env, pages) for kind in ("gunicorn", "runserver")}
    reading = _load("gunicorn", env, pages, pause=PAUSE_SECONDS)
    results = []
    for kind, figure in [*figures.items(), (f"gunicorn, each user reading {_pause_words()} a page", reading)]:
        results.append(
            {
                "label": f"load, {LOAD_USERS} users, {kind}",
                "seconds": figure["seconds"],
                "peak": 0,
                "note": (
                    f"1 user p50 {figure['p50_1'] * 1000:.0f} ms; {LOAD_USERS} users p50 {figure['p50'] * 1000:.0f} ms, "
                    f"p95 {figure['p95'] * 1000:.0f} ms, {figure['rps']:.1f} req/s, {figure['requests']} requests, "
                    f"{figure['errors']} errors {figure['error_kinds'] or ''}"
                ),
                **{key: value for key, value in figure.items() if key != "error_kinds"},
            }
        )
    gunicorn, runserver = figures["gunicorn"], figures["runserver"]
    results.append(
        {
            "label": "load, gunicorn against the goals",
            "seconds": 0,
            "peak": 0,
            "note": (
                f"errors {gunicorn['errors'] + reading['errors']} (goal 0); throughput "
                f"{gunicorn['rps'] / runserver['rps']:.1f}× runserver's (goal ≥ 2×); p95 "
                f"{reading['p95'] / reading['p50_1']:.1f}× single-user p50 with users reading {_pause_words()} a page, "
                f"{gunicorn['p95'] / gunicorn['p50_1']:.1f}× with users who never pause (goal ≤ 10×); "
                f"{_cpu_note(gunicorn)}"
            ),
        }
    )
    return results


def _pause_words():
    return f"{PAUSE_SECONDS[0]:g}–{PAUSE_SECONDS[1]:g} s"


def _cpu_note(figure):
    """Where each request's CPU went under load, and the mean latency that queueing alone gives LOAD_USERS users
    who never pause on this many cores (Little's law: mean latency = users × CPU per request / cores), with and
    without the load generator's share, which runs on the same cores."""
    cores = os.cpu_count() or 1
    server = figure["cpu_server"] + figure["cpu_database"]
    with_client = server + figure["cpu_client"]
    return (
        f"CPU per request: server {figure['cpu_server'] * 1000:.1f} ms, its database {figure['cpu_database'] * 1000:.1f} "
        f"ms, load generator {figure['cpu_client'] * 1000:.1f} ms, anything else {figure['cpu_other'] * 1000:.1f} ms "
        f"(machine {figure['busy']:.0%} busy); queueing alone: mean latency "
        f"{LOAD_USERS * with_client / cores / figure['p50_1']:.1f}× single-user p50, "
        f"{LOAD_USERS * server / cores / figure['p50_1']:.1f}× without the load generator"
    )


def run_case(case):
    return {"bodies": run_bodies, "load": run_load}[case]()
