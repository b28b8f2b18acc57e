#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`joules record`: a trace read back with the csv module, whose cumulative
joules end exactly at what the command advanced and pass tools/check_trace.py;
rows flushed as they go (an interrupted recording keeps them); a failing
sensor gets rows that say why, and a message; an unwritable or full
destination fails clearly."""
import csv
import os
import signal
import subprocess
import sys
import time

from clitest import FAKESYS, JOULES, WRAPPER, joules, main, test
from runtest import ZONE, Tree, advance, scratch, script, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import check_trace  # noqa: E402

HEADER = ["time_s", "sensor", "watts", "joules", "total"]
WIDE = HEADER + ["window_s", "status", "name", "kind", "device", "note"]
INTEL_2S = {"rapl:package-0": "cpu", "rapl:core-0": "", "rapl:uncore-0": "", "rapl:dram-0": "dram",
            "rapl:package-1": "cpu", "rapl:core-1": "", "rapl:uncore-1": "", "rapl:dram-1": "dram"}


def read_trace(case, path, header=HEADER):
    """The rows of the trace at path as dicts, its header and the length of
    every row checked (the five columns by default, WIDE for --wide)."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        rows = list(reader)
    case.eq(rows[0] if rows else None, header, "header")
    case.eq([r for r in rows if len(r) != len(header)], [],
            f"rows without {len(header)} fields")
    faults = check_trace.check(path)
    case.eq(faults, [], "tools/check_trace.py finds no fault")
    return [dict(zip(header, r)) for r in rows[1:]]


def by_sensor(rows):
    out = {}
    for r in rows:
        out.setdefault(r["sensor"], []).append(r)
    return out


MOVED = ("rapl:package-0", "rapl:dram-0")


@test
def trace_rows_per_sample_per_sensor_with_cumulative_joules(case):
    with Tree("intel-2s") as t, scratch() as d:
        out = os.path.join(d, "trace.csv")
        # dram-0 moves first: a counter still for 100 ms would be not counting.
        steps = [advance(t, ZONE["rapl:dram-0"], 30000)]
        steps += [advance(t, ZONE["rapl:package-0"], 100000) for _ in range(6)]
        p = joules("record", "--wide", "-o", out, "-i", "20", "--", *script(*steps),
                   root=t.root)
        rows = read_trace(case, out, WIDE)
    case.eq(p.returncode, 0, f"exit status; stderr {p.stderr}")
    series = by_sensor(rows)
    case.eq(sorted(series), sorted(INTEL_2S), "one series per sensor")
    lengths = {len(v) for v in series.values()}
    case.eq(len(lengths), 1, "every sample has a row for every sensor")
    case.check(lengths and min(lengths) >= 3, f"several samples: {lengths}")
    for sid, rs in series.items():
        case.eq({r["total"] for r in rs}, {INTEL_2S[sid]}, f"{sid} total column")
        # A counter still for 100 ms (a slow start of the command, under
        # valgrind) reads as not counting until it moves: rows before its
        # first change may be empty; from then on it counts for good.
        while sid in MOVED and rs and (rs[0]["joules"] == "" or float(rs[0]["joules"]) == 0):
            rs = rs[1:]
        joules_ = [float(r["joules"]) for r in rs]
        case.check(joules_ == sorted(joules_), f"{sid} cumulative joules never fall")
        case.check(all(r["watts"] == "" or float(r["watts"]) >= 0 for r in rs),
                   f"{sid} watts >= 0")
        case.check(all(r["watts"] != "" for r in rs[1:]), f"{sid}: no gap once it moved")
        times = [float(r["time_s"]) for r in rs]
        case.check(times == sorted(times) and times[0] > 0, f"{sid} times rise from > 0")
    case.eq(series["rapl:package-0"][-1]["joules"], "0.600000", "package-0 ends at what was added")
    case.eq(series["rapl:dram-0"][-1]["joules"], "0.030000", "dram-0 too")
    case.eq(series["rapl:core-1"][-1]["joules"], "0.000000", "an idle sensor's rows: 0")
    # Each sensor's rows at its own readings: those of one sample within 10 ms.
    for k in range(min(lengths)):
        times = [float(rs[k]["time_s"]) for rs in series.values()]
        case.check(max(times) - min(times) < 0.01, f"sample {k}: times {times}")
    p0 = series["rapl:package-0"][0]
    case.eq((p0["name"], p0["kind"], p0["device"]), ("package-0", "cpu-package", "socket 0"),
            "the sensor's name, kind and device")


@test
def watts_integrate_to_the_joules(case):
    with Tree("intel-2s") as t, scratch() as d:
        out = os.path.join(d, "trace.csv")
        steps = [advance(t, ZONE["rapl:package-0"], 50000) for _ in range(5)]
        joules("record", "--wide", "-o", out, "-i", "20", "-e", "rapl:package-0", "--",
               *script(*steps), root=t.root)
        rows = read_trace(case, out, WIDE)
    total = sum(float(r["watts"]) * float(r["window_s"]) for r in rows)
    # Watts printed to 6 digits: the sum keeps a few µJ of rounding, not more.
    case.check(abs(total - 0.25) < 1e-5, f"Σ watts × window_s = {total}, want 0.25 J")
    # Each window starts where the one before ended.
    for a, b in zip(rows, rows[1:]):
        start = float(b["time_s"]) - float(b["window_s"])
        case.check(abs(start - float(a["time_s"])) < 2e-9, f"window at {b['time_s']} s")


@test
def duration_without_a_command(case):
    with Tree("intel-2s") as t, scratch() as d:
        out = os.path.join(d, "trace.csv")
        p = joules("record", "-o", out, "-i", "50", "--duration", "0.3", "-e", "dram",
                   root=t.root)
        rows = read_trace(case, out)
    case.eq(p.returncode, 0, "exit status")
    case.eq(sorted(by_sensor(rows)), ["rapl:dram-0", "rapl:dram-1"], "-e dram")
    case.check(len(rows) >= 2, f"rows: {len(rows)}")


@test
def after_a_reset_only_its_interval_is_unknown(case):
    with Tree("intel-2s") as t, scratch() as d:
        out = os.path.join(d, "trace.csv")
        z = ZONE["rapl:package-0"]
        steps = [advance(t, z, 100000) for _ in range(3)]
        steps.append(f"{FAKESYS} {t.root} write {z} 50000")
        steps += [advance(t, z, 100000) for _ in range(4)]
        p = joules("record", "--wide", "-o", out, "-i", "20", "-e", "rapl:package-0", "--",
                   *script(*steps), root=t.root)
        rows = read_trace(case, out, WIDE)
    case.eq(p.returncode, 0, f"exit status; stderr {p.stderr}")
    empty = [r for r in rows if r["watts"] == ""]
    case.eq([r["status"] for r in empty], ["reset"], f"one interval holds the reset: {empty}")
    case.has(empty[0]["note"] if empty else "", "went down from", "the row says why")
    case.check(rows[-1]["watts"] != "", f"rows after the reset have watts: {rows[-1]}")
    # What was measured outside the reset's interval: the 7 steps of 0.1 J,
    # less any that fell in that interval with it (its energy is unknown).
    j = float(rows[-1]["joules"] or "nan")
    case.check(0.6 - 1e-9 <= j <= 0.7 + 1e-9, f"joules {j}: the reset's interval left out")
    case.has(p.stderr, "rapl:package-0 was reset at", "stderr names the sensor")
    case.has(p.stderr, "went down from", "and what the counter did")


@test
def a_range_too_small_to_poll_is_refused_not_polled(case):
    with Tree("intel-2s") as t, scratch() as d:
        out = os.path.join(d, "trace.csv")
        # 1 mJ: at 2 kW a wrap every 0.5 µs. Polling at half that would spin.
        t.fs("write", "class/powercap/intel-rapl:1/max_energy_range_uj", "1000\n")
        t.fs("write", ZONE["rapl:package-1"], "500\n")
        # --wide: rows without watts pass the checker with a status saying why.
        p = joules("record", "--wide", "-o", out, "-e", "rapl:package-0,rapl:package-1", "--",
                   *script(advance(t, ZONE["rapl:package-0"], 10000), "sleep 0.3"),
                   root=t.root)
        rows = read_trace(case, out, WIDE)
        listed = joules("list", root=t.root).stdout
    case.eq(p.returncode, 0, f"exit status; stderr {p.stderr}")
    series = by_sensor(rows)
    # At the default 100 ms, ~4 samples; a tick of 0.25 µs would make thousands.
    case.check(0 < len(series.get("rapl:package-0", [])) <= 10,
               f"samples at the asked interval: {len(series.get('rapl:package-0', []))}")
    case.has(listed, "faster than any poll can follow", "list says why it is refused")


@test
def a_sensor_that_vanishes_gets_rows_with_the_reason_and_a_message(case):
    with Tree("intel-2s") as t, scratch() as d:
        out = os.path.join(d, "trace.csv")
        cmd = script(advance(t, ZONE["rapl:package-1"], 10000),
                     f"{FAKESYS} {t.root} remove {ZONE['rapl:package-1']}", "true", sleep=0.1)
        p = joules("record", "--wide", "-o", out, "-i", "20", "--", *cmd, root=t.root)
        rows = read_trace(case, out, WIDE)
    case.eq(p.returncode, 0, "the command's status")
    case.has(p.stderr, "rapl:package-1 failed at", "message names the sensor")
    case.has(p.stderr, "vanished", "and why")
    gone = by_sensor(rows).get("rapl:package-1", [])
    case.check(gone and gone[0]["watts"] != "", "read before it went")
    failed = [r for r in gone if r["watts"] == ""]
    case.check(failed and all(r["status"] == "failed" for r in failed),
               f"rows without watts say failed: {failed[:2]}")
    case.has(failed[0]["note"] if failed else "", "vanished", "the first says why")
    case.check(gone and gone[-1]["watts"] == "" and gone[-1]["joules"] == "0.010000",
               f"the energy measured is kept: {gone[-1:]}")


ODD_NAME = 'pkg,"0"'  # an id with a comma and a quote: quoted, not split


def failing_recording(case, *args):
    """record ARGS on intel-2s, package-0 renamed ODD_NAME, while package-1's
    reads fail for a while (a value that is not a number), come back, then
    fail for good (its file removed). The trace's rows as lists, and the
    process."""
    with Tree("intel-2s") as t, scratch() as d:
        t.fs("write", "class/powercap/intel-rapl:0/name", ODD_NAME + "\n")
        out = os.path.join(d, "trace.csv")
        z = ZONE["rapl:package-1"]
        with open(t.path(z)) as f:
            back = int(f.read()) + 20000
        cmd = script(advance(t, z, 10000), f"{FAKESYS} {t.root} write {z} garbage",
                     f"{FAKESYS} {t.root} write {z} {back}", advance(t, z, 10000),
                     f"{FAKESYS} {t.root} remove {z}", "true", sleep=0.15)
        p = joules("record", *args, "-o", out, "-i", "20", "--", *cmd, root=t.root)
        with open(out, newline="") as f:
            rows = list(csv.reader(f))
        faults = check_trace.check(out)
    case.eq(p.returncode, 0, f"{args}: exit status; stderr {p.stderr}")
    return p, rows, faults


@test
def default_rows_have_the_five_fields_and_stderr_the_notes(case):
    p, rows, faults = failing_recording(case)
    case.eq(rows[0] if rows else None, HEADER, "header")
    case.eq([r for r in rows if len(r) != 5], [], "rows without 5 fields")
    case.eq({r[1] for r in rows[1:]} & {"rapl:" + ODD_NAME}, {"rapl:" + ODD_NAME},
            "the id with a comma and a quote read back whole")
    failed = [r for r in rows[1:] if r[1] == "rapl:package-1" and r[2] == ""]
    case.check(len(failed) >= 2, f"rows of failed reads, watts empty: {failed}")
    case.check(failed and failed[-1][3] == "0.030000",
               f"the energy measured is kept in joules: {failed[-1:]}")
    # What the wide trace's note column says is said on stderr: the
    # failures with their reasons, and the row that spans them.
    case.has(p.stderr, "rapl:package-1 failed at", "stderr: the failure")
    case.has(p.stderr, "garbage", "and why")
    case.has(p.stderr, "vanished", "the second failure and why")
    case.has(p.stderr, "rapl:package-1 (spans) at", "stderr: the row spanning the failed reads")
    case.has(p.stderr, "across the failed reads since", "and what it holds")
    # Five columns cannot say why a row has no watts: the checker counts
    # those as empty, and finds nothing else (no window taken wrongly).
    case.eq([f for f in faults if f.kind != "empty" or f.sensor != "rapl:package-1"], [],
            "tools/check_trace.py: only package-1's rows without watts")


@test
def wide_rows_have_the_eleven_fields(case):
    _, rows, faults = failing_recording(case, "--wide")
    case.eq(rows[0] if rows else None, WIDE, "header")
    case.eq([r for r in rows if len(r) != 11], [], "rows without 11 fields")
    rows = [dict(zip(WIDE, r)) for r in rows[1:]]
    odd = [r for r in rows if r["sensor"] == "rapl:" + ODD_NAME]
    case.check(odd and odd[0]["name"] == ODD_NAME, f"the name read back whole: {odd[:1]}")
    status = {r["status"] for r in rows if r["sensor"] == "rapl:package-1"}
    case.check({"failed", "spans"} <= status, f"package-1's statuses: {status}")
    case.eq(faults, [], "tools/check_trace.py finds no fault")


@test
def full_disk_and_unwritable_path_fail_clearly(case):
    with Tree("intel-2s") as t, scratch() as d:
        mark = os.path.join(d, "ran")
        p = joules("record", "-o", "/dev/full", "--", "touch", mark, root=t.root)
        case.eq(p.returncode, 1, "/dev/full")
        case.has(p.stderr, "cannot write /dev/full: No space left on device", "message")
        case.check(not os.path.exists(mark), "the command did not run")
        bad = os.path.join(d, "missing", "trace.csv")
        p = joules("record", "-o", bad, "--duration", "0.1", root=t.root)
        case.eq(p.returncode, 1, "missing directory")
        case.has(p.stderr, f"cannot write {bad}: No such file or directory", "message")


def interrupted(case, t, out, cmd, sig, want):
    env = dict(os.environ, JOULES_SYSFS_ROOT=t.root)
    p = subprocess.Popen([*WRAPPER, JOULES, "record", "-o", out, "-i", "20", *cmd],
                         env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(out)
        # Wait for a few samples on disk: rows are flushed as they go.
        end = time.monotonic() + 120
        while time.monotonic() < end:
            with open(out) as f:
                if f.read().count("\n") > 20:
                    break
            time.sleep(0.01)
        p.send_signal(sig)
        p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    case.eq(p.returncode, want, f"exit status after {sig.name}")
    with open(out) as f:
        text = f.read()
    case.check(text.endswith("\n"), "ends on a whole row")
    rows = read_trace(case, out)
    case.check(len(rows) > 8, f"rows kept: {len(rows)}")


@test
def interrupted_recordings_keep_their_rows(case):
    with Tree("intel-2s") as t, scratch() as d:
        interrupted(case, t, os.path.join(d, "a.csv"), [], signal.SIGINT, 0)
        ready = os.path.join(d, "ready")
        interrupted(case, t, os.path.join(d, "b.csv"),
                    ["--", "sh", "-c", f"touch {ready}; exec sleep 300"], signal.SIGTERM, 143)


@test
def usage_errors_and_help(case):
    for args, part in ((["record", "--duration", "1"], "give -o FILE"),
                       (["record", "-o", "x", "--duration", "1", "true"], "exclude each other"),
                       (["record", "-o", "x", "--duration", "soon"], "--duration 'soon'")):
        p = joules(*args)
        case.eq(p.returncode, 2, f"{args}")
        case.has(p.stderr, part, f"{args} message")
    p = joules("record", "--help")
    case.eq(p.returncode, 0, "--help")
    for part in (",".join(HEADER) + "\n", "cumulative", "--wide", "window_s", "spans",
                 "-i, --interval", "--duration S", "-e, --sensors", "flushed"):
        case.has(p.stdout, part, "--help")


if __name__ == "__main__":
    main()
