# SPDX-License-Identifier: MIT
"""What the joulesd tests share: a daemon on a temp socket over a fake tree,
clients as real unprivileged users in and out of the group, and the wire
protocol spoken by hand (docs/protocol.md).

Environment (tests/meson.build): JOULESD, JOULES_LIB, JOULES_CLI, FAKESYS.
"""
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from clitest import WRAPPER, Skip, Tree, main, need_root, test  # noqa: E402,F401

JOULESD = os.environ["JOULESD"]
HERE = os.path.dirname(os.path.abspath(__file__))
GROUP = "joules"
DAEMON_USER = "joules"
J = 1_000_000
RANGE = 262143328850

MAGIC = 0x31444C4A
SENSOR_RECORD = 408  # struct jld_sensor
HELLO, SENSORS, PAGE, SNAPSHOT, ERROR = 1, 2, 3, 4, 127
REPLY = 0x8000
E_MALFORMED, E_VERSION, E_UNKNOWN, E_TOO_BIG, E_DENIED, E_RATE = 1, 2, 3, 4, 5, 6
# Clients run as nobody: a Python that nobody can run (not one under /root).
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
# A bound on waiting for something that happens within milliseconds: a hang, not a speed.
PATIENCE_S = 60


def setup_accounts():
    """The group and the daemon's system user, as the install step makes them."""
    need_root()
    if not shutil.which("setpriv"):
        raise Skip("setpriv is not installed")
    subprocess.run(["groupadd", "-f", "--system", GROUP], check=True)
    try:
        pwd.getpwnam(DAEMON_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--gid", GROUP, "--no-create-home",
                        "--shell", "/usr/sbin/nologin", DAEMON_USER], check=True)
    return grp.getgrnam(GROUP).gr_gid


def member():
    gid = setup_accounts()
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", f"--groups={gid}"]


def outsider():
    setup_accounts()
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def locked_tree():
    """Two packages and a DRAM zone whose energy_uj is root-only, as since Linux 5.10."""
    t = Tree()
    t.zone("intel-rapl:0", "package-0", 10 * J + 123)
    t.zone("intel-rapl:0:0", "dram", 3 * J + 7)
    t.zone("intel-rapl:1", "package-1", 20 * J + 456)
    for z in ("intel-rapl:0", "intel-rapl:0:0", "intel-rapl:1"):
        t.fs("chmod", f"class/powercap/{z}/energy_uj", "400")
    return t


class Daemon:
    """joulesd --foreground on a socket in a fresh directory, stopped on exit;
    under $JOULES_TEST_WRAPPER (valgrind) when set."""

    def __init__(self, tree, *args, sock_dir=None, nvml="/nonexistent/libnvidia-ml.so.1"):
        self.nvml = nvml
        self.base = sock_dir or tempfile.mkdtemp(prefix="joulesd-test-")
        os.chmod(self.base, 0o755)
        self.sock = os.path.join(self.base, "run", "joules.sock")
        self.public = os.path.join(self.base, "run", "joules-public.sock")
        self.tree = tree
        self.args = args
        self.proc = None
        self.log = os.path.join(self.base, "log")

    def env(self):
        env = dict(os.environ)
        env["JOULES_SYSFS_ROOT"] = self.tree.root
        env["JOULES_NVML_LIBRARY"] = self.nvml
        return env

    def start(self, wait=True):
        setup_accounts()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*WRAPPER, JOULESD, "--foreground", "--socket", self.sock, "--user", DAEMON_USER,
                 "--group", GROUP, *self.args], env=self.env(), stderr=log)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self):
        deadline = time.monotonic() + PATIENCE_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"joulesd exited {self.proc.returncode}: {self.stderr()}")
            if "serving" in self.stderr():
                return
            time.sleep(0.02)
        raise AssertionError(f"joulesd did not start: {self.stderr()}")

    def stderr(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=PATIENCE_S)
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop(signal.SIGKILL)
        shutil.rmtree(self.base, ignore_errors=True)

    def client_env(self):
        env = self.env()
        env["JOULES_SOCKET"] = self.sock
        env["JOULES_NVML_LIBRARY"] = "/nonexistent/libnvidia-ml.so.1"  # the daemon's, not ours
        return env


class Client:
    """tests/daemon/jclient.py as a process of its own (as `prefix` says)."""

    def __init__(self, daemon, prefix=(), env=None):
        env = dict(env or daemon.client_env())
        runtime = os.environ.get("JOULES_ASAN_RUNTIME")
        if runtime:  # an ASan build: its runtime first, and Python's own leaks ignored
            env["LD_PRELOAD"] = runtime
            env["ASAN_OPTIONS"] = "detect_leaks=0"
        self.p = subprocess.Popen([*prefix, PYTHON, os.path.join(HERE, "jclient.py")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  env=env)

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        out = self.p.stdout.readline()
        if not out:
            raise AssertionError(f"client died on {line!r}")
        return json.loads(out)

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.write("quit\n")
            self.p.stdin.close()
            self.p.wait(timeout=PATIENCE_S)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)  # blocking: waits while the listen queue is full (a timeout would not)
    s.settimeout(PATIENCE_S)
    return s


def header(typ, length=16, tag=7, version=1, magic=MAGIC):
    return struct.pack("<IHHII", magic, version, typ, length, tag)


def request(s, typ, body=b"", tag=7):
    s.send(header(typ, 16 + len(body), tag) + body)
    return parse_reply(s.recv(65536))


def parse_reply(data):
    """(type, tag, body), or (ERROR, tag, (code, detail))."""
    if len(data) < 16:
        return None, None, data
    magic, version, typ, length, tag = struct.unpack("<IHHII", data[:16])
    assert magic == MAGIC and length == len(data), f"bad reply header {data[:16]!r}"
    if typ == ERROR:
        return typ, tag, struct.unpack("<iI", data[16:24])
    return typ, tag, data[16:]


def hello(s):
    typ, _, body = request(s, HELLO)
    assert typ == HELLO | REPLY, f"hello answered with {typ}: {body}"
    keys = ("version", "access", "n_sensors", "page_size", "interval_ns", "generation",
            "rate_per_s")
    return dict(zip(keys, struct.unpack("<IIIIQQI", body[:36])))


def sensors(s):
    typ, _, body = request(s, SENSORS, struct.pack("<II", 0, 0))
    assert typ == SENSORS | REPLY, f"sensors answered with {typ}: {body}"
    total, first, count, _ = struct.unpack("<IIII", body[:16])
    out = []
    for i in range(count):
        rec = body[16 + SENSOR_RECORD * i:16 + SENSOR_RECORD * (i + 1)]
        out.append({"id": rec[:64].split(b"\0")[0].decode(), "kind": struct.unpack("<i", rec[208:212])[0]})
    return out


def snapshot(s):
    """(update_ns, [(energy, time, unc, resets, status, flags)], [power])."""
    typ, _, body = request(s, SNAPSHOT)
    if typ != SNAPSHOT | REPLY:
        return typ, body
    update, _gen, n, _ = struct.unpack("<QQII", body[:24])
    slots = [struct.unpack("<QQIIiI", body[24 + 32 * i:56 + 32 * i]) for i in range(n)]
    return update, slots


def run_as(prefix, code, *args, env=None):
    """Run Python `code` as another user; its stdout."""
    p = subprocess.run([*prefix, PYTHON, "-c", code, *args], capture_output=True,
                       text=True, env=env, timeout=PATIENCE_S * 5)
    if p.returncode != 0:
        raise AssertionError(f"client failed ({p.returncode}): {p.stderr}")
    return p.stdout
