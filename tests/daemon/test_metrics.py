#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""joulesd --metrics with real processes: the daemon (root, then its own
user) over a fake tree, scraped over loopback by urllib, by promtool's
parser and by a real Prometheus (Debian's) whose rate() and increase() are
checked against a counter that advances at a known rate, across wraps and a
daemon restart. Needs root and prometheus; loopback only."""
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from daemontest import main, test  # noqa: E402  (daemontest sets the path)
from daemontest import (GROUP, J, PATIENCE_S, Daemon, Skip, connect, locked_tree,
                        member, outsider, run_as, snapshot)
from clitest import Tree

PKG0 = 'joules_energy_joules_total{sensor="rapl:package-0",kind="cpu-package",device="'
# Every wait below bounds a hang, not a speed.
POLL_S = 0.05


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need(prog):
    path = shutil.which(prog)
    if not path:
        raise Skip(f"{prog} is not installed (apt-get install prometheus)")
    return path


def scrape(url, token=None):
    """(status, headers, text) of one GET."""
    req = urllib.request.Request(url)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=PATIENCE_S) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def value(text, prefix):
    """The sample of the first line starting with `prefix`, or None."""
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return None


def wait_for(what, fn):
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(POLL_S)
    raise AssertionError(f"timed out waiting for {what}")


def write_counter(tree, rel, v):
    """In place, as the kernel's file changes (the daemon holds it open)."""
    fd = os.open(tree.path(rel), os.O_WRONLY)
    try:
        data = f"{v}\n".encode()
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


@test
def exposition_passes_promtool_full_resolution_counts_from_the_start(case):
    promtool = need("promtool")
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    with locked_tree() as t, Daemon(t, "--metrics", f"127.0.0.1:{port}", "--metrics-full") as d:
        case.has(d.stderr(), f"metrics for Prometheus on {url} (full resolution", "log")
        wait_for("a first poll", lambda: value(scrape(url)[2], PKG0) is not None)
        status, headers, text = scrape(url)
        case.eq(status, 200, "status")
        case.has(headers.get("Content-Type", ""), "text/plain; version=0.0.4", "content type")
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=PATIENCE_S)
        case.eq(p.returncode, 0, f"promtool check metrics: {p.stdout} {p.stderr}")
        for sid, kind in (("rapl:package-0", "cpu-package"), ("rapl:dram-0", "dram"),
                          ("rapl:package-1", "cpu-package")):
            case.has(text, f'joules_sensor_up{{sensor="{sid}",kind="{kind}",device="', "up line")
            case.eq(value(text, f'joules_sensor_up{{sensor="{sid}"'), 1.0, f"{sid} up")
        case.has(text, "# TYPE joules_energy_joules_total counter", "counter type")
        case.has(text, "# TYPE joules_power_watts gauge", "power type")
        case.has(text, 'joules_build_info{version="', "build info")
        case.eq(value(text, "joules_energy_resolution_joules"), 1e-6, "resolution")
        # Counted from the daemon's start (10.000123 J were there before), to the µJ.
        case.eq(value(text, PKG0), 0.0, "package-0 before it moves")
        t.fs("advance", "class/powercap/intel-rapl:0/energy_uj", str(3 * J + 17),
             str(262143328850 + 1))
        got = wait_for("the advance", lambda: value(scrape(url)[2], PKG0))
        case.eq(round(got * 1e6), 3 * J + 17, "package-0 after 3.000017 J")
        status, _, body = scrape(f"http://127.0.0.1:{port}/nothing")
        case.eq(status, 404, "unknown path")
        req = urllib.request.Request(url, data=b"x", method="POST")
        try:
            urllib.request.urlopen(req, timeout=PATIENCE_S)
            case.check(False, "POST accepted")
        except urllib.error.HTTPError as e:
            case.eq(e.code, 405, "POST refused")
        # A clean stop (under ASan: no error and no leak in the exporter's shutdown).
        case.eq(d.stop(), 0, f"exit status on SIGTERM; stderr {d.stderr()}")


@test
def public_resolution_unless_behind_the_group(case):
    """Plain TCP without a token: whole joules, refreshed at most once a second."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    with locked_tree() as t, Daemon(t, "--metrics", f":{port}") as d:
        case.has(d.stderr(), "public resolution: whole joules, once a second", "log")
        wait_for("a first poll", lambda: value(scrape(url)[2], PKG0) is not None)
        case.eq(value(scrape(url)[2], "joules_energy_resolution_joules"), 1.0, "resolution")
        t.fs("advance", "class/powercap/intel-rapl:0/energy_uj", str(2 * J + 500000),
             str(262143328850 + 1))
        got = wait_for("the advance", lambda: value(scrape(url)[2], PKG0))
        case.eq(got, 2.0, "2.5 J shown as 2 whole joules")
        # Two scrapes within the second: the same values (no finer timing).
        t.fs("advance", "class/powercap/intel-rapl:0/energy_uj", str(3 * J),
             str(262143328850 + 1))
        started = time.monotonic()
        first = scrape(url)[2]
        second = scrape(url)[2]
        if time.monotonic() - started < 0.9:  # else the host was too slow to tell
            case.eq(second, first, "a second scrape within the second")
        text = wait_for("the second advance",
                        lambda: (lambda x: x if value(x, PKG0) == 5.0 else None)(scrape(url)[2]))
        for line in text.splitlines():
            if line.startswith(("joules_energy_joules_total", "joules_power_watts")):
                v = float(line.rsplit(" ", 1)[1])
                case.eq(v, float(int(v)), f"whole units: {line}")


@test
def bearer_token_from_a_file_and_its_mode(case):
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    with locked_tree() as t:
        tokdir = tempfile.mkdtemp(prefix="joulesd-token-")
        tok = os.path.join(tokdir, "token")
        try:
            with open(tok, "w") as f:
                f.write("s3cret-token-0123456789\n")
            os.chmod(tok, 0o644)
            d = Daemon(t, "--metrics", f"127.0.0.1:{port}", "--metrics-token-file", tok)
            d.start(wait=False)
            case.eq(d.proc.wait(timeout=PATIENCE_S), 1, "world-readable token refused")
            case.has(d.stderr(), "readable by everyone", "why")
            d.__exit__(None, None, None)
            os.chmod(tok, 0o640)
            with Daemon(t, "--metrics", f"127.0.0.1:{port}", "--metrics-token-file", tok) as d:
                status, headers, body = scrape(url)
                case.eq(status, 401, "no token")
                case.has(headers.get("WWW-Authenticate", ""), "Bearer", "challenge")
                case.has(body, "--metrics-token-file", "what to do")
                case.eq(scrape(url, "s3cret-token-012345678")[0], 401, "a prefix of the token")
                case.eq(scrape(url, "s3cret-token-01234567890")[0], 401, "a longer token")
                case.eq(scrape(url, "S3cret-token-0123456789")[0], 401, "one byte off")
                status, _, text = scrape(url, "s3cret-token-0123456789")
                case.eq(status, 200, "the token")
                case.eq(value(text, "joules_energy_resolution_joules"), 1e-6,
                        "behind the token: full resolution")
        finally:
            shutil.rmtree(tokdir, ignore_errors=True)


UNIX_GET = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("EACCES"); sys.exit(0)
s.sendall(b"GET /metrics HTTP/1.0\r\nHost: joulesd\r\n\r\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
print(out.decode())
"""


@test
def unix_socket_serves_the_group_only(case):
    with locked_tree() as t:
        d = Daemon(t)
        path = os.path.join(d.base, "run", "metrics.sock")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.chmod(os.path.dirname(path), 0o755)
        d.args = ("--metrics", f"unix:{path}")
        d.start()
        d3 = None
        try:
            st = os.stat(path)
            case.eq(stat.S_IMODE(st.st_mode), 0o660, "socket mode")
            case.eq(st.st_gid, __import__("grp").getgrnam(GROUP).gr_gid, "socket group")
            out = wait_for("a member's scrape", lambda: (lambda o: o if PKG0 in o else None)(
                run_as(member(), UNIX_GET, path)))
            case.has(out, " 200 OK", "member gets the metrics")
            case.has(out, "joules_energy_resolution_joules 0.000001", "full resolution")
            case.eq(run_as(outsider(), UNIX_GET, path).strip(), "EACCES", "outsider refused")
            # A second daemon on the same path is refused while the first serves.
            d2 = Daemon(t, "--metrics", f"unix:{path}")
            d2.start(wait=False)
            case.eq(d2.proc.wait(timeout=PATIENCE_S), 1, "second daemon on a live metrics socket")
            case.has(d2.stderr(), "another daemon serves there", "why")
            d2.__exit__(None, None, None)
            d.stop(signal.SIGKILL)  # leaves its socket files behind
            d3 = Daemon(t, "--metrics", f"unix:{path}", sock_dir=d.base)
            d3.log = d.log + ".3"
            d3.start()
            out = wait_for("a scrape after the stale socket", lambda: (
                lambda o: o if PKG0 in o else None)(run_as(member(), UNIX_GET, path)))
            case.has(out, " 200 OK", "stale socket replaced")
            case.has(d3.stderr(), f"metrics for Prometheus on unix:{path}", "log")
        finally:
            if d3:
                d3.stop(signal.SIGKILL)
            d.__exit__(None, None, None)


@test
def bad_metrics_options_are_clear_errors(case):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    taken = busy.getsockname()[1]
    try:
        with locked_tree() as t:
            for args, rc, why in (
                    (("--metrics-full",), 2, "need --metrics"),
                    (("--metrics", "127.0.0.1:99999"), 1, "expected ADDR:PORT"),
                    (("--metrics", "unix:relative.sock"), 1, "need an absolute path"),
                    (("--metrics", "no-such-host.invalid:19471"), 1, "address 'no-such-host.invalid'"),
                    (("--metrics", f"127.0.0.1:{taken}"), 1, "another program has the port")):
                d = Daemon(t, *args)
                d.start(wait=False)
                case.eq(d.proc.wait(timeout=PATIENCE_S), rc, f"{args} exit status")
                case.has(d.stderr(), why, f"{args} message")
                d.__exit__(None, None, None)
    finally:
        busy.close()


class Abuse:
    """Bad HTTP clients on loopback, each loop bounded."""

    def __init__(self, port):
        self.port = port
        self.slow = []
        self.answers = {}

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE_S)
        return s

    def slow_clients(self, n):
        """Half a request each, then silence."""
        for _ in range(n):
            s = self.connect()
            s.sendall(b"GET /metr")
            self.slow.append(s)

    def malformed(self):
        bad = {
            "garbage": b"\x00\xff\x13\x37" * 256 + b"\r\n\r\n",
            "no version": b"GET /metrics\r\n\r\n",
            "bad version": b"GET /metrics HTTP/9.9\r\n\r\n",
            "huge header": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + b"A" * 100000 + b"\r\n\r\n",
            "huge url": b"GET /" + b"m" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            "bad header": b"GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",
            "lying length": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\nab",
        }
        for name, data in bad.items():
            s = self.connect()
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                out = b""
                for _ in range(1000):  # until the daemon closes
                    b = s.recv(65536)
                    if not b:
                        break
                    out += b
                self.answers[name] = out.split(b"\r\n", 1)[0].decode(errors="replace")
            except OSError as e:
                self.answers[name] = f"closed ({e.__class__.__name__})"
            finally:
                s.close()

    def parallel_scrapes(self, url, n):
        ok = []

        def one():
            try:
                if scrape(url)[0] == 200:
                    ok.append(1)
            except OSError:
                pass  # beyond the connection limit: closed at once, by design

        threads = [threading.Thread(target=one) for _ in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(PATIENCE_S)
        return len(ok)


def page_gaps(d, stop, out):
    """Gaps between the page's successive update times while `stop` is unset."""
    s = connect(d.sock)
    last = None
    for _ in range(200000):  # bounded: about 1000 s at 5 ms
        if stop.is_set():
            break
        update = snapshot(s)[0]
        if isinstance(update, int):
            if last is not None and update != last:
                out.append((update - last) / 1e9)
            last = update
        time.sleep(0.005)
    s.close()


@test
def abuse_never_stalls_the_poll(case):
    """Malformed requests, slow clients and many parallel scrapes: the page keeps
    its interval (no gap near the 50 intervals after which clients call the
    daemon lost), and the endpoint still answers afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    with locked_tree() as t, Daemon(t, "--metrics", f"127.0.0.1:{port}", "--metrics-full",
                                    "--rate", "100000") as d:
        wait_for("a first poll", lambda: value(scrape(url)[2], PKG0) is not None)
        quiet, busy = [], []
        stop = threading.Event()
        th = threading.Thread(target=page_gaps, args=(d, stop, quiet))
        th.start()
        time.sleep(1.0)
        stop.set()
        th.join(PATIENCE_S)
        stop = threading.Event()
        th = threading.Thread(target=page_gaps, args=(d, stop, busy))
        th.start()
        abuse = Abuse(port)
        abuse.slow_clients(30)
        abuse.malformed()
        served = [abuse.parallel_scrapes(url, 200) for _ in range(2)]
        stop.set()
        th.join(PATIENCE_S)
        status, _, text = scrape(url)
        case.eq(status, 200, "a scrape after the abuse, slow clients still connected")
        case.check(value(text, PKG0) is not None, "with the counters")
        case.check(sum(served) > 0, f"some parallel scrapes served: {served}")
        for name in ("no version", "bad version", "bad header", "huge url", "huge header"):
            case.check(not abuse.answers[name].startswith("HTTP/1.1 200"),
                       f"{name}: refused, got {abuse.answers[name]!r}")
        # The slow clients are closed by the daemon's connection timeout (5 s).
        closed = 0
        for s in abuse.slow:
            s.settimeout(PATIENCE_S)
            try:
                for _ in range(100):  # an error page may come first, then the end
                    if s.recv(65536) == b"":
                        closed += 1
                        break
            except ConnectionResetError:
                closed += 1
            except socket.timeout:
                pass  # still open after PATIENCE_S: not closed
            s.close()
        case.eq(closed, 30, "slow clients closed by the daemon")
        interval = 0.010
        limit = 50 * interval  # docs/protocol.md: a page this old means the daemon is gone
        worst_quiet = max(quiet, default=0)
        worst_busy = max(busy, default=0)
        print(f"# page update gaps: quiet max {worst_quiet * 1e3:.1f} ms over {len(quiet)}, "
              f"under abuse max {worst_busy * 1e3:.1f} ms over {len(busy)}; "
              f"answers {json.dumps(abuse.answers)}; parallel served {served}")
        case.check(len(busy) > 0, "page updates seen during the abuse")
        case.check(worst_busy < limit, f"a page update gap of {worst_busy:.3f} s under abuse "
                   f"(quiet: {worst_quiet:.3f} s; stale after {limit} s)")


RATE_W = 10
RANGE_UJ = 40 * J  # wraps every 4 s at 10 W


class Writer:
    """energy_uj = (start + RATE_W * t) mod (range + 1), rewritten every 20 ms."""

    def __init__(self, tree, rel, start_uj):
        self.tree, self.rel, self.start = tree, rel, start_uj
        self.t0 = time.monotonic()
        self.stop = threading.Event()
        self.th = threading.Thread(target=self.run)

    def run(self):
        for _ in range(100000):  # bounded: about 2000 s
            if self.stop.is_set():
                break
            uj = self.start + int(RATE_W * J * (time.monotonic() - self.t0))
            write_counter(self.tree, self.rel, uj % (RANGE_UJ + 1))
            time.sleep(0.02)

    def __enter__(self):
        self.th.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.th.join(PATIENCE_S)


class Prometheus:
    def __init__(self, target_port):
        self.exe = need("prometheus")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="joules-prometheus-")
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: joules\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{target_port}']\n")
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(
            [self.exe, f"--config.file={cfg}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=self.log)

    def api(self, query, at=None):
        args = {"query": query}
        if at is not None:
            args["time"] = f"{at:.3f}"
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode(args)
        with urllib.request.urlopen(url, timeout=PATIENCE_S) as r:
            doc = json.load(r)
        assert doc["status"] == "success", doc
        return doc["data"]["result"]

    def scalar(self, query, at=None):
        res = self.api(query, at)
        return float(res[0]["value"][1]) if res else None

    def ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=5) as r:
                return r.status == 200
        except OSError:
            if self.proc.poll() is not None:
                raise AssertionError(f"prometheus exited {self.proc.returncode}")
            return False

    def __enter__(self):
        wait_for("prometheus", self.ready)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=PATIENCE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def near(case, got, want, tol, what):
    ok = got is not None and abs(got - want) <= tol * want
    print(f"# {what}: {got} (want {want:.3f} ± {tol * 100:.0f}%)")
    return case.check(ok, f"{what}: got {got}, want {want:.3f} ± {tol * 100:.0f}%")


@test
def real_prometheus_rate_and_increase_across_wraps_and_a_restart(case):
    """10 W on package-0, wrapping every 4 s; the daemon restarted once.
    Tolerance 10%: the counter is rewritten every 20 ms, scrapes are 1 s apart
    and their timestamps are taken when a scrape starts."""
    port = free_port()
    sel = 'joules_energy_joules_total{sensor="rapl:package-0"}'
    t = Tree()
    t.zone("intel-rapl:0", "package-0", RANGE_UJ - 5 * J, range_uj=RANGE_UJ)
    t.fs("chmod", "class/powercap/intel-rapl:0/energy_uj", "400")
    run_s = 12
    with t, Writer(t, "class/powercap/intel-rapl:0/energy_uj", RANGE_UJ - 5 * J):
        d1 = Daemon(t, "--metrics", f"127.0.0.1:{port}", "--metrics-full")
        with d1, Prometheus(port) as prom:
            wait_for("samples in prometheus",
                     lambda: (prom.scalar(f"count_over_time({sel}[1m])") or 0) >= 3)
            time.sleep(run_s)
            now = time.time()
            near(case, prom.scalar(f"rate({sel}[10s])", now), RATE_W, 0.10, "rate, first daemon")
            near(case, prom.scalar(f"increase({sel}[10s])", now), RATE_W * 10, 0.10,
                 "increase over 10 s, first daemon")
            top = prom.scalar(f"max_over_time({sel}[1m])", now)
            case.check(top is not None and top > 2 * RANGE_UJ / J,
                       f"{top} J exported: more than two wraps of a {RANGE_UJ / J} J range "
                       "added back")
            before_stop = time.time()
            d1.stop()
            d2 = Daemon(t, "--metrics", f"127.0.0.1:{port}", "--metrics-full", sock_dir=d1.base)
            d2.log = d1.log + ".2"
            d2.start()
            ready = time.time()
            try:
                time.sleep(run_s)
                now = time.time()
                near(case, prom.scalar(f"rate({sel}[10s])", now), RATE_W, 0.10,
                     "rate, restarted daemon")
                window = now - before_stop + 10
                down = ready - before_stop + 1  # not counted: daemon away, then its first scrape
                inc = prom.scalar(f"increase({sel}[{window:.0f}s])", now)
                lo, hi = RATE_W * (window - down) * 0.9, RATE_W * window * 1.1
                print(f"# increase over {window:.0f} s across the restart: {inc} J "
                      f"(want {lo:.1f} to {hi:.1f}; daemon away {down - 1:.2f} s)")
                case.check(inc is not None and lo <= inc <= hi,
                           f"increase across the restart: {inc}, want {lo:.1f} to {hi:.1f}")
                case.eq(prom.scalar(f"resets({sel}[{window:.0f}s])", now), 1.0,
                        "the restart is one counter reset")
                series = prom.api(f"{sel}[{window:.0f}s]", now)
                vals = [float(v) for _, v in series[0]["values"]] if series else []
                drops = sum(1 for a, b in zip(vals, vals[1:]) if b < a)
                case.eq(drops, 1, f"the value drops once only (the restart): {vals}")
            finally:
                d2.__exit__(None, None, None)


if __name__ == "__main__":
    main()
