#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""joulesd with real processes: the daemon (root, then its own user) over a
fake tree whose energy_uj files are root-only, and clients as `nobody` in
and out of the group `joules`. Needs root; skipped otherwise."""
import json
import mmap
import os
import shutil
import signal
import socket
import struct
import subprocess
import time

from daemontest import main, test  # noqa: E402  (daemontest sets the path)
from daemontest import (E_DENIED, E_MALFORMED, E_RATE, E_TOO_BIG, E_UNKNOWN, E_VERSION, ERROR,
                        HELLO, J, PAGE, PATIENCE_S, RANGE, REPLY, SNAPSHOT, Client, Daemon,
                        connect, header, hello, locked_tree, member, outsider, parse_reply,
                        request, run_as, sensors, setup_accounts, snapshot)


def list_json(case, d, prefix, socket_path=None):
    env = d.client_env()
    if socket_path is not None:
        env["JOULES_SOCKET"] = socket_path
    p = subprocess.run([*prefix, os.environ["JOULES_CLI"], "list", "--json"], env=env,
                       capture_output=True, text=True, timeout=PATIENCE_S)
    case.eq(p.returncode, 0, f"list --json exit status; stderr {p.stderr}")
    return {s["id"]: s for s in json.loads(p.stdout)["sensors"]}


@test
def member_reads_root_only_counters_exactly_through_the_daemon(case):
    with locked_tree() as t, Daemon(t) as d:
        got = list_json(case, d, member())
        direct = list_json(case, d, [], socket_path="/nonexistent/joules.sock")
    for sid in ("rapl:package-0", "rapl:dram-0", "rapl:package-1"):
        s = got.get(sid, {})
        case.eq(s.get("via"), "daemon", f"{sid} via")
        case.eq(s.get("readable"), True, f"{sid} readable; reason {s.get('reason')}")
        case.eq(direct.get(sid, {}).get("via"), "direct", f"{sid} via, root without daemon")
        case.eq(round(s.get("energy_j", -1) * 1e6), round(direct[sid]["energy_j"] * 1e6),
                f"{sid}: through the daemon == root's direct read")
    case.eq(round(got["rapl:package-0"]["energy_j"] * 1e6), 10 * J + 123, "exact µJ")
    case.eq(got["rapl:dram-0"]["parent"], None, "dram sits outside its package")


@test
def member_measures_a_command_with_joules_run(case):
    """`joules run` as a member, no sudo: the energy of the command, to the µJ."""
    with locked_tree() as t, Daemon(t) as d:
        work = os.path.join(d.base, "work")
        os.mkdir(work)
        os.chmod(work, 0o777)
        ready, go = os.path.join(work, "ready"), os.path.join(work, "go")
        cmd = f"touch {ready}; while [ ! -e {go} ]; do sleep 0.02; done"
        p = subprocess.Popen([*member(), os.environ["JOULES_CLI"], "run", "--json", "--", "sh",
                              "-c", cmd], env=d.client_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + PATIENCE_S
        while not os.path.exists(ready) and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.02)
        s = connect(d.sock)
        before = snapshot(s)[1][0][0]
        t.fs("advance", "class/powercap/intel-rapl:0/energy_uj", str(3 * J + 17), str(RANGE + 1))
        while snapshot(s)[1][0][0] == before and time.monotonic() < deadline:
            time.sleep(0.01)  # until the daemon has read the new value
        open(go, "w").close()
        _, err = p.communicate(timeout=PATIENCE_S)
    case.eq(p.returncode, 0, f"joules run exit status; stderr {err}")
    doc = json.loads(err[err.index("{"):]) if "{" in err else {}
    got = {x["id"]: x for x in doc.get("sensors", [])}
    pkg = got.get("rapl:package-0", {})
    case.eq(pkg.get("readable"), True, f"package-0 readable: {pkg}")
    def uj(sensor):
        e = sensor.get("energy_j")
        return None if e is None else round(e * 1e6)
    case.eq(uj(pkg), 3 * J + 17, "energy of the command")
    case.eq(uj(got.get("rapl:package-1", {})), 0, "package-1 did not move")


@test
def a_fake_tree_never_mixes_with_the_default_daemon(case):
    """JOULES_SYSFS_ROOT elsewhere and no JOULES_SOCKET: the machine's daemon is not asked."""
    with locked_tree() as t:
        env = dict(os.environ, JOULES_SYSFS_ROOT=t.root)
        env.pop("JOULES_SOCKET", None)
        p = subprocess.run([os.environ["JOULES_CLI"], "list", "--json"], env=env,
                           capture_output=True, text=True, timeout=PATIENCE_S)
    doc = json.loads(p.stdout)
    note = {s["name"]: s["note"] for s in doc["sources"]}.get("daemon") or ""
    case.has(note, "not asked", "daemon source's note")
    case.has(note, "JOULES_SOCKET", "how to ask it anyway")
    case.check(all(s["via"] == "direct" for s in doc["sensors"]), "every sensor direct")


@test
def gpus_stay_direct_unless_only_the_daemon_has_them(case):
    """The daemon serves a GPU (fake NVML, its sampler thread started before the
    drop) and its public total; a client that loads NVML itself reads the GPU
    directly, one that cannot gets it through the daemon."""
    fake = os.path.join(os.environ["FAKE_NVML_DIR"], "libnvidia-ml.so.1")
    with locked_tree() as t:
        conf = t.path("fake-nvml.conf")
        with open(conf, "w") as f:
            f.write("gpus 1\nenergy_mj 0 7000\npower_mw 0 0\n")
        os.chmod(conf, 0o644)
        os.environ["FAKE_NVML_CONFIG"] = conf
        try:
            with Daemon(t, "--public", nvml=fake) as d:
                without = list_json(case, d, member())
                env = d.client_env()
                env["JOULES_NVML_LIBRARY"] = fake
                p = subprocess.run([*member(), os.environ["JOULES_CLI"], "list", "--json"],
                                   env=env, capture_output=True, text=True, timeout=PATIENCE_S)
                own = {s["id"]: s for s in json.loads(p.stdout)["sensors"]}
                pub = connect(d.public)
                ids = [x["id"] for x in sensors(pub)]
                snap = snapshot(pub)[1]
        finally:
            del os.environ["FAKE_NVML_CONFIG"]
    gpus = [s for s in without.values() if s["kind"] == "gpu"]
    case.eq(len(gpus), 1, f"GPU through the daemon: {sorted(without)}")
    for g in gpus:
        case.eq(g["via"], "daemon", "GPU without NVML here")
        case.eq(round(g.get("energy_j", -1) * 1e3), 7000, "GPU energy (mJ)")
    mine = [s for s in own.values() if s["kind"] == "gpu"]
    case.eq([g["via"] for g in mine], ["direct"], "GPU with NVML here: direct")
    case.check("total:gpu" in ids, f"public totals: {ids}")
    if "total:gpu" in ids:
        case.eq(snap[ids.index("total:gpu")][0], 7 * J, "public GPU total, whole joules")


@test
def outsider_is_refused_with_the_fix(case):
    with locked_tree() as t, Daemon(t) as d:
        got = list_json(case, d, outsider())
        reason = got.get("rapl:package-0", {}).get("reason", "")
        case.eq(got.get("rapl:package-0", {}).get("readable"), False, "outsider reads")
        for w in ("root-only", "joulesd", "join the group 'joules'", "usermod -aG joules"):
            case.has(reason, w, "outsider's reason")
    with locked_tree() as t:
        d = Daemon(t)  # never started: nobody listens
        got = list_json(case, d, member())
        reason = got.get("rapl:package-0", {}).get("reason", "")
        for w in ("joulesd is not running", "systemctl enable --now joulesd", "sudo"):
            case.has(reason, w, "reason without a daemon")


@test
def daemon_checks_supplementary_groups_itself(case):
    """Even on a socket anyone may open, only root and the group get data."""
    code = ("import sys; sys.path.insert(0, sys.argv[2]); import daemontest as t; "
            "s = t.connect(sys.argv[1]); print(t.parse_reply((s.send(t.header(t.HELLO)), "
            "s.recv(4096))[1])[0])")
    here = os.path.dirname(os.path.abspath(__file__))
    with locked_tree() as t, Daemon(t) as d:
        os.chmod(d.sock, 0o666)  # as a careless admin might
        env = dict(os.environ, PYTHONPATH=os.path.join(here, "..", "cli"))
        out = run_as(outsider(), code, d.sock, here, env=env).strip()
        case.eq(out, str(ERROR), "outsider on a 0666 socket: JLD_ERROR")
        out = run_as(member(), code, d.sock, here, env=env).strip()
        case.eq(out, str(HELLO | REPLY), "member by a supplementary group: hello")
        case.has(d.stderr(), "is not in the group: denied", "denial logged")


@test
def socket_mode_owner_and_privilege_drop(case):
    gid = setup_accounts()
    with locked_tree() as t, Daemon(t) as d:
        st = os.stat(d.sock)
        case.eq(oct(st.st_mode & 0o777), oct(0o660), "socket mode")
        case.eq(st.st_gid, gid, "socket group")
        status = open(f"/proc/{d.proc.pid}/status").read()
        fields = dict(ln.split(":", 1) for ln in status.splitlines() if ":" in ln)
        uid = str(__import__("pwd").getpwnam("joules").pw_uid)
        case.eq(fields["Uid"].split(), [uid] * 4, "runs as its own user")
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            case.eq(int(fields[cap], 16), 0, cap)
        case.eq(fields["NoNewPrivs"].strip(), "1", "no_new_privs")
        case.eq(fields["Groups"].strip(), "", "no supplementary groups")
        case.eq(d.stop(), 0, "exit status on SIGTERM")
        case.check(not os.path.exists(d.sock), "socket removed on SIGTERM")


@test
def missing_group_or_user_is_a_clear_error(case):
    setup_accounts()
    with locked_tree() as t:
        for args, words in ((["--group", "no-such-group-j"], ["group 'no-such-group-j'", "groupadd"]),
                            (["--user", "no-such-user-j"], ["user 'no-such-user-j'", "useradd"])):
            d = Daemon(t, *args)
            d.start(wait=False)
            case.eq(d.proc.wait(timeout=PATIENCE_S), 1, f"{args} exit status")
            for w in words:
                case.has(d.stderr(), w, f"{args} message")


@test
def live_socket_refuses_a_second_daemon_stale_one_is_replaced(case):
    with locked_tree() as t, Daemon(t) as d:
        second = Daemon(t, sock_dir=d.base)
        second.log = d.log + ".2"
        second.start(wait=False)
        case.eq(second.proc.wait(timeout=PATIENCE_S), 1, "second daemon exit status")
        case.has(second.stderr(), "another joulesd is listening", "second daemon's message")
        case.eq(hello(connect(d.sock))["access"], 1, "first daemon still serves")
        d.stop(signal.SIGKILL)  # leaves its socket behind
        case.check(os.path.exists(d.sock), "a killed daemon leaves its socket")
        third = Daemon(t, sock_dir=d.base)
        third.log = d.log + ".3"
        third.start()
        case.has(third.stderr(), "replacing stale socket", "stale socket replaced")
        case.eq(hello(connect(d.sock))["access"], 1, "new daemon serves")
        third.stop()


@test
def page_is_sealed_read_only(case):
    code = r"""
import mmap, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1])
s.send(struct.pack("<IHHII", 0x31444C4A, 1, 3, 16, 1))
msg, fds, _, _ = socket.recv_fds(s, 4096, 1)
fd = fds[0]; size = os.fstat(fd).st_size; res = []
for what, f in (("mmap-write", lambda: mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)),
                ("ftruncate-grow", lambda: os.ftruncate(fd, size * 2)),
                ("ftruncate-shrink", lambda: os.ftruncate(fd, 0)),
                ("write", lambda: os.pwrite(fd, b"x", 0))):
    try: f(); res.append(what + ":allowed")
    except OSError as e: res.append(what + ":refused")
m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
res.append("magic:%x" % struct.unpack("<I", m[:4])[0])
print(" ".join(res))
"""
    with locked_tree() as t, Daemon(t) as d:
        out = run_as(member(), code, d.sock).split()
    for what in ("mmap-write", "ftruncate-grow", "ftruncate-shrink", "write"):
        case.check(f"{what}:refused" in out, f"{what} must be refused: {out}")
    case.check("magic:4750534a" in out, f"page readable: {out}")


@test
def rate_limit_per_uid(case):
    with locked_tree() as t, Daemon(t, "--rate", "10") as d:
        code = r"""
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1])
ok = limited = 0; detail = 0
for i in range(400):
    s.send(struct.pack("<IHHII", 0x31444C4A, 1, 4, 16, i))
    r = s.recv(65536)
    typ = struct.unpack("<H", r[6:8])[0]
    if typ == 127:
        code, detail = struct.unpack("<iI", r[16:24]); limited += code == 6
    else:
        ok += 1
print(ok, limited, detail)
"""
        ok, limited, detail = map(int, run_as(member(), code, d.sock).split())
        case.check(limited > 0, f"400 requests at 10/s: none limited ({ok} answered)")
        case.check(ok >= 10, f"the burst passes: {ok} answered")
        case.check(detail > 0, "JLD_E_RATE says how long to wait")
        case.has(d.stderr(), "exceeds 10 requests/s", "rate limit logged")
        case.eq(hello(connect(d.sock))["access"], 1, "root, another uid, still served")


@test
def public_mode_whole_joules_once_a_second(case):
    with locked_tree() as t, Daemon(t, "--public") as d:
        case.eq(oct(os.stat(d.public).st_mode & 0o777), oct(0o666), "public socket mode")
        code = r"""
import sys, time, json; sys.path.insert(0, sys.argv[2]); import daemontest as t
s = t.connect(sys.argv[1]); h = t.hello(s); ids = [x["id"] for x in t.sensors(s)]
snaps = []
end = time.monotonic() + 2.5
while time.monotonic() < end:
    snaps.append(t.snapshot(s)); time.sleep(0.05)
typ, tag, body = t.request(s, t.PAGE)
print(json.dumps({"hello": h, "ids": ids, "snaps": snaps}))
"""
        here = os.path.dirname(os.path.abspath(__file__))
        env = dict(os.environ, PYTHONPATH=os.path.join(here, "..", "cli"))
        t.fs("advance", "class/powercap/intel-rapl:1/energy_uj", str(J // 2), str(RANGE + 1))
        doc = json.loads(run_as(outsider(), code, d.public, here, env=env))
    case.eq(doc["hello"]["access"], 2, "public access")
    case.eq(doc["hello"]["interval_ns"], 1_000_000_000, "public interval")
    case.eq(sorted(doc["ids"]), ["total:cpu-package", "total:dram"], "public sensors only")
    updates = sorted({u for u, _ in doc["snaps"]})
    case.check(len(updates) >= 2, f"updates seen: {updates}")
    for a, b in zip(updates, updates[1:]):
        case.check(b - a >= 1_000_000_000, f"public updates {b - a} ns apart (< 1 s)")
    for _, slots in doc["snaps"]:
        for energy, *_ in slots:
            case.eq(energy % J, 0, "public energy is whole joules")
    pkg = doc["snaps"][-1][1][doc["ids"].index("total:cpu-package")][0]
    case.eq(pkg, 30 * J, "sum of packages (30.500579 J) truncated to 30 J")


@test
def counter_wrap_between_client_reads_is_exact(case):
    with locked_tree() as t:
        t.zone("intel-rapl:0", "package-0", RANGE - 1000)
        t.fs("chmod", "class/powercap/intel-rapl:0/energy_uj", "400")
        with Daemon(t) as d, Client(d, member()) as c:
            opened = c.ask("open")
            i = opened["ids"].index("rapl:package-0")
            case.eq(opened["via"][i], "daemon", "via")
            a = c.ask("read")["readings"][i]
            c.ask("settle")
            c.ask("keep a")
            t.fs("advance", "class/powercap/intel-rapl:0/energy_uj", "5000", str(RANGE + 1))
            deadline = time.monotonic() + PATIENCE_S
            while c.ask("read")["readings"][i][0] < a[0] + 5000 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)  # past the jump, so the ring around the next reading is flat
            c.ask("read")
            c.ask("settle")
            c.ask("keep b")
            case.eq(c.ask("delta a b")[i], [0, 5000], "energy across the wrap")


@test
def stale_page_detected_then_restart_reports_the_gap(case):
    with locked_tree() as t, Daemon(t) as d, Client(d, member()) as c:
        i = c.ask("open")["ids"].index("rapl:package-1")
        c.ask("read")
        c.ask("settle")
        c.ask("keep a")
        os.kill(d.proc.pid, signal.SIGSTOP)
        time.sleep(1.0)  # the page is stale after 0.5 s without an update
        r = c.ask("read")
        case.eq(r["readings"][i][4], -7, "stale page: JOULES_ERR_LOST")
        case.has(r["errors"][i], "stopped updating", "stale message")
        os.kill(d.proc.pid, signal.SIGCONT)
        deadline = time.monotonic() + PATIENCE_S
        while c.ask("read")["readings"][i][4] != 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        case.eq(c.ask("read")["readings"][i][3], 0, "same daemon again: no reset")
        # Killed and restarted mid-region: the region reports the gap.
        d.stop(signal.SIGKILL)
        t.fs("advance", "class/powercap/intel-rapl:1/energy_uj", str(2 * J), str(RANGE + 1))
        time.sleep(1.0)  # stale, and nobody to reconnect to
        r = c.ask("read")
        case.eq(r["readings"][i][4], -7, "killed daemon: JOULES_ERR_LOST")
        case.has(r["errors"][i], "start it again", "what to do")
        d2 = Daemon(t, sock_dir=d.base)
        d2.log = d.log + ".2"
        d2.start()
        deadline = time.monotonic() + PATIENCE_S
        r = c.ask("read")
        while r["readings"][i][4] != 0 and time.monotonic() < deadline:
            case.has(r["errors"][i], "joulesd", "message while away")
            time.sleep(0.05)
            r = c.ask("read")
        c.ask("settle")
        c.ask("keep b")
        case.eq(c.ask("delta a b")[i][0], -8, "region across the restart: JOULES_ERR_RESET")
        d2.stop()


@test
def protocol_abuse_is_answered_and_never_stalls_others(case):
    with locked_tree() as t, Daemon(t, "--rate", "100000") as d:
        def reply_to(data):
            s = connect(d.sock)
            s.send(data)
            first = s.recv(65536)
            rest = s.recv(65536)  # the daemon closes after an error
            return parse_reply(first), rest

        (typ, _, (code, _)), rest = reply_to(header(HELLO)[:10])
        case.eq((typ, code, rest), (ERROR, E_MALFORMED, b""), "truncated header")
        (typ, _, (code, _)), rest = reply_to(header(HELLO, 1000) + b"\0" * 984)
        case.eq((typ, code, rest), (ERROR, E_TOO_BIG, b""), "oversized request")
        (typ, _, (code, _)), _ = reply_to(os.urandom(8) + b"\xff" * 8)
        case.eq((typ, code), (ERROR, E_MALFORMED), "garbage")
        (typ, _, (code, detail)), _ = reply_to(header(HELLO, version=9))
        case.eq((typ, code, detail), (ERROR, E_VERSION, 1), "wrong version, names its own")
        (typ, _, (code, _)), _ = reply_to(header(99))
        case.eq((typ, code), (ERROR, E_UNKNOWN), "unknown request")
        (typ, _, (code, _)), _ = reply_to(header(SNAPSHOT, 20) + b"\0" * 4)
        case.eq((typ, code), (ERROR, E_MALFORMED), "length disagrees with the type")
        s = connect(d.sock)
        s.send(b"")
        case.eq(s.recv(65536), b"", "zero-length message: closed")
        # Slow drip: one byte now, nothing after; and a client that says nothing.
        drip, mute = connect(d.sock), connect(d.sock)
        drip.send(b"J")
        case.eq(parse_reply(drip.recv(65536))[2][0], E_MALFORMED, "one-byte drip")
        case.eq(mute.recv(65536), b"", "silent client closed at the read deadline")
        # A client that never reads its replies is dropped; others are served meanwhile.
        hog = connect(d.sock)
        hog.settimeout(5)
        dropped = False
        try:
            for _ in range(200000):
                hog.send(header(SNAPSHOT))
        except OSError:
            dropped = True
        case.check(dropped, "a client that never reads was never dropped")
        case.has(d.stderr(), "does not read its replies", "drop logged")
        case.eq(hello(connect(d.sock))["access"], 1, "still serving after the abuse")
        case.check(d.proc.poll() is None, "daemon alive")


@test
def many_clients_at_once(case):
    with locked_tree() as t, Daemon(t) as d:
        # 256 connections plus 44 idle ones open together: all admitted.
        conns = [connect(d.sock) for _ in range(300)]
        answered = sum(hello(s)["access"] == 1 for s in conns[:256])
        case.eq(answered, 256, "hellos answered with 300 connections open")
        for s in conns:
            s.close()
        # 256 library clients on their own threads, 1000 snapshots each, through the page.
        with Client(d, member()) as c:
            out = c.ask("hammer 256 1000")
        case.eq(out["opened"], 256, f"contexts opened; {out['first_error']}")
        case.eq(out["reads"], 256 * 1000, "snapshots")
        case.eq(out["errors"], 0, f"errors: {out['first_error']}")
        # One uid holds at most 512: the rest are closed at once, not queued. (Another
        # uid than the 300 above, whose closing the daemon may not have seen yet;
        # the library clients closed theirs right after opening, seconds ago.)
        code = r"""
import socket, struct, sys
conns = []
for _ in range(520):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1]); s.settimeout(60); conns.append(s)  # connect blocks on a full queue
served = closed = 0
for s in conns:
    try:
        s.send(struct.pack("<IHHII", 0x31444C4A, 1, 1, 16, 1)); r = s.recv(4096)
    except OSError:
        r = b""
    served += bool(r); closed += not r
print(served, closed)
"""
        served, closed = map(int, run_as(member(), code, d.sock).split())
        case.eq((served, closed), (512, 8), "connections of one uid: served, closed")
        case.has(d.stderr(), "too many connections of this uid", "refusal logged")
        case.check(d.proc.poll() is None, "daemon alive")


def fake_daemon(path, seal, version_error=False):
    """A stand-in joulesd speaking the protocol by hand, to see what the library accepts."""
    import threading
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ls.bind(path)
    ls.listen(4)
    fd = os.memfd_create("fake-page", os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, 4096)
    os.pwrite(fd, struct.pack("<IIII", 0x4750534A, 1, 0, 1), 0)
    if seal:
        import fcntl
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK |
                    fcntl.F_SEAL_GROW | 0x10)

    def serve():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            while True:
                req = c.recv(64)
                if len(req) < 16:
                    break
                _, _, typ, _, tag = struct.unpack("<IHHII", req[:16])
                if version_error:
                    c.send(header(ERROR, 24, tag) + struct.pack("<iI", E_VERSION, 2))
                elif typ == HELLO:
                    c.send(header(HELLO | REPLY, 56, tag) +
                           struct.pack("<IIIIQQII", 1, 1, 0, 4096, 10**7, 0, 1000, 0))
                elif typ == PAGE:
                    socket.send_fds(c, [header(PAGE | REPLY, 32, tag) +
                                        struct.pack("<IIQ", 4096, 0, 0)], [fd])
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    return ls


@test
def library_refuses_an_unsealed_page_and_a_foreign_version(case):
    with locked_tree() as t:
        d = Daemon(t)
        os.makedirs(os.path.dirname(d.sock))
        for seal, version_error, want in ((False, False, "a page that is not sealed"),
                                          (True, True, "joulesd speaks protocol 2"),
                                          (True, False, None)):
            ls = fake_daemon(d.sock, seal, version_error)
            with Client(d) as c:
                r = c.ask("open daemon")
            ls.close()
            os.unlink(d.sock)
            if want:
                case.eq(r["ok"], False, f"open with {want}")
                case.has(r.get("error"), want, "message")
            else:
                case.eq(r.get("ok"), True, f"a sealed page of the same version opens: {r}")
        shutil.rmtree(d.base)


if __name__ == "__main__":
    main()
