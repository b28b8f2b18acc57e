#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`joules run` on fake trees whose counters the measured command itself
advances by known amounts: energies exact to the counter's 1 µJ, totals
that never count a domain twice, exit statuses and signals as a shell
gives them, -r statistics, --baseline, every output format read back by a
real parser, and sensors that fail or cannot be read."""
import csv
import io
import json
import os
import signal
import subprocess

from clitest import AS_NOBODY, FAKESYS, JOULES, WRAPPER, Skip, joules, main, need_root, test
from runtest import LAPTOP_PSYS, ZONE, Advancer, Tree, advance, scratch, script, wait_for

UJ = 1e-6  # one count of a powercap counter, in J


def run_json(case, tree, cmd, *opts):
    """`joules run --json OPTS -- CMD`: (process, document or {})."""
    p = joules("run", "--json", *opts, "--", *cmd, root=tree.root)
    try:
        return p, json.loads(p.stderr[p.stderr.index("{"):])
    except ValueError as e:
        case.check(False, f"run --json gave no JSON ({e}); rc {p.returncode}: {p.stderr!r}")
        return p, {}


def sensors(doc):
    return {s["id"]: s for s in doc.get("sensors", [])}


def near(case, got, want, what, tol=UJ / 2):
    return case.check(got is not None and abs(got - want) <= tol,
                      f"{what}: got {got!r}, want {want!r} ± {tol}")


def two_socket_load(t):
    """package-0 0.5 J, its core 0.2 J, dram-0 0.03 J, package-1 0.14 J."""
    steps = []
    for i in range(5):
        steps.append(advance(t, ZONE["rapl:package-0"], 100000))
        steps.append(advance(t, ZONE["rapl:core-0"], 40000))
        if i < 3:
            steps.append(advance(t, ZONE["rapl:dram-0"], 10000))
        if i < 2:
            steps.append(advance(t, ZONE["rapl:package-1"], 70000))
    return script(*steps)


@test
def energies_exact_and_totals_count_packages_not_cores(case):
    with Tree("intel-2s") as t:
        p, doc = run_json(case, t, two_socket_load(t))
    case.eq(p.returncode, 0, "exit status")
    s = sensors(doc)
    for sid, want in (("rapl:package-0", 0.5), ("rapl:core-0", 0.2), ("rapl:dram-0", 0.03),
                      ("rapl:package-1", 0.14)):
        near(case, s.get(sid, {}).get("energy_j"), want, f"{sid} energy_j")
    # Zones that never moved over the run (a fake tree's, a VM's): not counting, never 0 J.
    for sid in ("rapl:uncore-0", "rapl:dram-1"):
        case.eq(s.get(sid, {}).get("energy_j", 0), None, f"{sid}: a still counter, not 0 J")
        case.has(s.get(sid, {}).get("reason"), "not counting", f"{sid} reason")
    case.eq(s["rapl:core-0"]["counted_in"], None, "core counted in no total")
    case.eq(s["rapl:package-0"]["counted_in"], "cpu", "package counted in cpu")
    tot = doc.get("totals", {})
    near(case, tot.get("cpu_j"), 0.64, "cpu total: packages, not their cores")
    case.eq(tot.get("dram_j", 0), None, "dram total: dram-1 is not counting")
    case.has(doc.get("totals_missing", {}).get("dram"), "rapl:dram-1", "why dram is null")
    case.eq(tot.get("gpu_j", 0), None, "no gpu: null, not 0")
    case.eq(tot.get("platform_j", 0), None, "no psys: null, not 0")
    case.has(doc.get("totals_missing", {}).get("gpu"), "no gpu sensor", "why gpu is null")
    case.eq(doc.get("command"), two_socket_load(t), "command array")
    case.eq(doc.get("exit_status"), 0, "exit_status")
    pkg = s["rapl:package-0"]
    case.check(doc.get("duration_s", 0) > 0, f"duration_s {doc.get('duration_s')}")
    case.check(pkg["mean_w"] > 0 and pkg["peak_w"] >= pkg["mean_w"],
               f"mean {pkg['mean_w']} > 0 and peak {pkg['peak_w']} >= mean")


@test
def psys_is_its_own_total_and_packages_inside_it_still_make_cpu(case):
    with Tree("laptop") as t:
        cmd = script(advance(t, ZONE["rapl:package-0"], 300000),
                     advance(t, ZONE["rapl:core-0"], 100000), advance(t, LAPTOP_PSYS, 900000))
        p, doc = run_json(case, t, cmd)
    tot = doc.get("totals", {})
    near(case, tot.get("cpu_j"), 0.3, "cpu total")
    near(case, tot.get("platform_j"), 0.9, "platform total (psys alone)")
    case.eq(tot.get("dram_j", 0), None, "no dram sensor: null")
    case.eq(sorted(sensors(doc)), ["rapl:core-0", "rapl:package-0", "rapl:psys", "rapl:uncore-0"],
            "the mmio duplicate of package-0 is not a second sensor")


@test
def report_on_stderr_leaves_stdout_to_the_command(case):
    with Tree("intel-2s") as t:
        p = joules("run", "--", "echo", "hello", root=t.root)
    case.eq(p.returncode, 0, "exit status")
    case.eq(p.stdout, "hello\n", "the command's stdout, untouched")
    for part in ("Energy of 'echo hello'", "rapl:package-0", "total cpu", "wall time",
                 "not measured (no gpu sensor)"):
        case.has(p.stderr, part, "text report")


@test
def exit_status_and_signal_of_the_command(case):
    with Tree("intel-2s") as t:
        for cmd, want in ((["sh", "-c", "exit 3"], 3), (["true"], 0),
                          (["sh", "-c", "kill -TERM $$"], 143), (["sh", "-c", "kill -KILL $$"], 137)):
            p = joules("run", "--", *cmd, root=t.root)
            case.eq(p.returncode, want, f"exit status of {cmd}")
            case.has(p.stderr, "Energy of", f"report after {cmd}")


@test
def not_found_127_not_executable_126_like_a_shell(case):
    with Tree("intel-2s") as t, scratch() as d:
        p = joules("run", "--", "joules-no-such-command", root=t.root)
        case.eq(p.returncode, 127, "not found")
        case.has(p.stderr, "joules-no-such-command: command not found", "message")
        case.check("Energy of" not in p.stderr, "no report for a command never run")
        p = joules("run", "--", os.path.join(d, "missing"), root=t.root)
        case.eq(p.returncode, 127, "missing path")
        case.has(p.stderr, "No such file or directory", "message")
        plain = os.path.join(d, "plain")
        with open(plain, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(plain, 0o644)  # no x bit: even root may not execute it
        p = joules("run", "--", plain, root=t.root)
        case.eq(p.returncode, 126, "not executable")
        case.has(p.stderr, "Permission denied", "message")
        p = joules("run", "--", d, root=t.root)
        case.eq(p.returncode, 126, "a directory")


def default_signals():
    for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)


def start_and_signal(case, t, sig, want):
    with scratch() as d:
        ready = os.path.join(d, "ready")
        env = dict(os.environ, JOULES_SYSFS_ROOT=t.root)
        # Default dispositions, whatever the suite was started under (nohup
        # ignores SIGHUP, and an ignored signal stays ignored across exec).
        p = subprocess.Popen([*WRAPPER, JOULES, "run", "--", "sh", "-c",
                              f"touch {ready}; exec sleep 300"],
                             env=env, stderr=subprocess.PIPE, text=True,
                             preexec_fn=default_signals)
        try:
            wait_for(ready)
            p.send_signal(sig)
            _, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    case.eq(p.returncode, want, f"exit status after {sig.name} to joules")
    case.has(err, "Energy of", f"report after {sig.name}")


@test
def signals_to_joules_are_passed_to_the_command(case):
    with Tree("intel-2s") as t:
        start_and_signal(case, t, signal.SIGTERM, 143)
        start_and_signal(case, t, signal.SIGINT, 130)
        start_and_signal(case, t, signal.SIGHUP, 129)


@test
def repeat_gives_mean_and_sample_stddev(case):
    with Tree("intel-2s") as t, scratch() as d:
        n = os.path.join(d, "n")
        # Run k advances package-0 by k × 0.1 J: 0.1, 0.2, 0.3 → 0.2 ± 0.1;
        # package-1 moves too (a still one would be not counting).
        cmd = ["sh", "-c", f"k=$(($(cat {n} 2>/dev/null || echo 0) + 1)); echo $k > {n}; "
               + advance(t, ZONE["rapl:package-0"], "$((k * 100000))")
               + "; " + advance(t, ZONE["rapl:package-1"], 100000)
               + "; " + advance(t, ZONE["rapl:dram-0"], 50000)]
        p, doc = run_json(case, t, cmd, "-r", "3")
    case.eq(p.returncode, 0, "exit status")
    case.eq(doc.get("runs"), 3, "runs")
    pkg = sensors(doc).get("rapl:package-0", {})
    near(case, pkg.get("energy_j"), 0.2, "mean energy")
    near(case, pkg.get("energy_j_stddev"), 0.1, "sample stddev (n - 1)")
    dram = sensors(doc).get("rapl:dram-0", {})
    near(case, dram.get("energy_j_stddev"), 0.0, "stddev of a constant")
    near(case, doc.get("totals", {}).get("cpu_j"), 0.3, "mean cpu total")
    near(case, doc.get("totals_stddev", {}).get("cpu_j"), 0.1, "stddev of the cpu total")
    case.check("duration_s_stddev" in doc, "duration stddev")


@test
def repeat_stops_at_the_first_failing_run(case):
    with Tree("intel-2s") as t, scratch() as d:
        n = os.path.join(d, "n")
        cmd = ["sh", "-c", f"k=$(($(cat {n} 2>/dev/null || echo 0) + 1)); echo $k > {n}; "
               "test $k -lt 2"]
        p, doc = run_json(case, t, cmd, "-r", "5")
        case.eq(p.returncode, 1, "exit status of the failing run")
        case.eq(doc.get("runs"), 2, "runs done")
        case.eq(doc.get("exit_status"), 1, "exit_status")
        with open(n) as f:
            case.eq(f.read().strip(), "2", "the command ran twice")


@test
def baseline_of_a_still_counter_is_not_counting(case):
    with Tree("intel-2s") as t:
        # package-0 does not move in the 0.3 s baseline (longer than the 100 ms after
        # which a still counter is not counting), then the command adds 0.25 J.
        cmd = script(advance(t, ZONE["rapl:package-0"], 250000))
        p, doc = run_json(case, t, cmd, "--baseline=0.3", "-e", "rapl:package-0")
    pkg = sensors(doc).get("rapl:package-0", {})
    case.eq(doc.get("baseline_s"), 0.3, "baseline_s")
    case.eq(pkg.get("idle_w"), None, "no idle power from a counter that was not counting")
    case.eq(pkg.get("above_idle_j"), None, "so no energy above idle")
    near(case, pkg.get("energy_j"), 0.25, "the run's energy: it moved then")
    case.eq(doc.get("totals_above_idle", {}).get("cpu_j"), None, "cpu total above idle")

@test
def baseline_subtracts_the_idle_draw(case):
    with Tree("intel-2s") as t:
        # package-1 draws a steady ~2 W, before and during the command;
        # the command adds 0.3 J to package-0 only, which otherwise creeps
        # by 1 µJ every 50 ms (a counter that never moves is not counting).
        bg = Advancer(t, ZONE["rapl:package-1"], 20000, 0.01)
        bump = Advancer(t, ZONE["rapl:package-0"], 1, 0.05)
        bg.start()
        bump.start()
        try:
            cmd = script(advance(t, ZONE["rapl:package-0"], 300000), "sleep 0.5")
            p, doc = run_json(case, t, cmd, "--baseline=0.5")
        finally:
            bg.stop()
            bump.stop()
    s = sensors(doc)
    busy, idle = s.get("rapl:package-0", {}), s.get("rapl:package-1", {})
    # The creep (20 µW) is in the idle draw and subtracted too, to a few µJ.
    near(case, busy.get("above_idle_j"), 0.3, "the command's own energy", tol=5 * UJ)
    case.check(idle.get("idle_w", 0) > 0.5, f"idle power of the busy-idle socket: {idle.get('idle_w')}")
    # Without the subtraction this would be its whole energy (~1 J).
    e, above = idle.get("energy_j", 0), idle.get("above_idle_j", 0)
    case.check(e > 0.3 and abs(above) < 0.5 * e,
               f"above idle {above} J is a small part of {e} J")


@test
def csv_has_a_header_a_row_per_sensor_and_the_totals(case):
    with Tree("intel-2s") as t, scratch() as d:
        out = os.path.join(d, "r.csv")
        p = joules("run", "--csv", "-o", out, "--", *two_socket_load(t), root=t.root)
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
    case.eq(p.returncode, 0, "exit status")
    case.eq(p.stderr, "", "nothing on stderr with -o")
    by_id = {r["id"]: r for r in rows}
    case.eq(list(rows[0].keys()) if rows else [],
            ["id", "name", "kind", "readable", "energy_j", "energy_j_stddev", "mean_w", "peak_w",
             "idle_w", "above_idle_j", "reason"], "header")
    near(case, float(by_id["rapl:package-0"]["energy_j"]), 0.5, "package-0")
    case.eq(by_id["rapl:package-0"]["kind"], "cpu-package", "kind")
    case.eq(by_id["rapl:package-0"]["energy_j_stddev"], "", "no stddev for one run")
    near(case, float(by_id["total:cpu"]["energy_j"]), 0.64, "total:cpu row")
    case.eq(by_id["total:gpu"]["energy_j"], "", "unknown total: empty, not 0")
    case.eq(by_id["total:gpu"]["reason"], "no gpu sensor", "why")
    case.eq(len(rows), 8 + 4, "8 sensors and 4 totals")


@test
def text_report_to_a_file(case):
    with Tree("intel-2s") as t, scratch() as d:
        out = os.path.join(d, "r.txt")
        p = joules("run", "-o", out, "--", "true", root=t.root)
        with open(out) as f:
            text = f.read()
    case.eq(p.stderr, "", "stderr stays empty")
    case.has(text, "rapl:dram-1", "report in the file")


@test
def select_by_id_kind_total_and_glob(case):
    with Tree("intel-2s") as t:
        cmd = two_socket_load(t)
        for sel, want in (("rapl:package-0", ["rapl:package-0"]),
                          ("dram", ["rapl:dram-0", "rapl:dram-1"]),
                          ("cpu-core,rapl:dram-1", ["rapl:core-0", "rapl:core-1", "rapl:dram-1"]),
                          ("*-0", ["rapl:core-0", "rapl:dram-0", "rapl:package-0", "rapl:uncore-0"]),
                          ("cpu", ["rapl:core-0", "rapl:core-1", "rapl:package-0",
                                   "rapl:package-1", "rapl:uncore-0", "rapl:uncore-1"])):
            p, doc = run_json(case, t, cmd, "-e", sel)
            case.eq(sorted(sensors(doc)), want, f"-e {sel}")
        # Cores without their package: then the cores are the cpu total.
        p, doc = run_json(case, t, cmd, "-e", "rapl:core-0")
        near(case, doc.get("totals", {}).get("cpu_j"), 0.2, "cpu total from a lone core")
        p = joules("run", "-e", "rapl:nothing", "--", "true", root=t.root)
        case.eq(p.returncode, 2, "-e matching nothing")
        case.has(p.stderr, "no sensor matches 'rapl:nothing'", "message")


@test
def a_sensor_that_vanishes_midrun_keeps_its_energy_marked_partial(case):
    def vanishing(t):
        # package-1 counts 70 mJ, is read, then goes for good.
        return script(advance(t, ZONE["rapl:package-0"], 100000),
                      advance(t, ZONE["rapl:package-1"], 70000), "sleep 0.2",
                      " ".join([FAKESYS, t.root, "remove", ZONE["rapl:package-1"]]),
                      advance(t, ZONE["rapl:package-0"], 100000))
    with Tree("intel-2s") as t:
        p, doc = run_json(case, t, vanishing(t))
    with Tree("intel-2s") as t:
        text = joules("run", "--", *vanishing(t), root=t.root).stderr
    gone = sensors(doc).get("rapl:package-1", {})
    near(case, gone.get("energy_j"), 0.07, "the energy up to its last good reading")
    case.has(gone.get("note"), "partial", "marked partial")
    case.has(gone.get("note"), "vanished", "and why")
    near(case, sensors(doc).get("rapl:package-0", {}).get("energy_j"), 0.2, "the others still read")
    case.eq(doc.get("totals", {}).get("cpu_j", 0), None, "cpu total unknown")
    case.has(doc.get("totals_missing", {}).get("cpu"), "rapl:package-1", "why")
    case.has(text, "Notes:", "text report lists it")
    case.has(text, "total cpu", "text total")
    case.has(text, "unknown: rapl:package-1 was not measured", "text total says why")


@test
def reads_failing_for_a_moment_keep_the_runs_energy(case):
    """Reads of package-0 fail for ~0.3 s mid-run (a driver busy for a
    moment); its ends were read and no wrap fits in the gap, so its energy
    over the whole run stands."""
    with Tree("intel-2s") as t:
        zone = ZONE["rapl:package-0"]
        # package-1 moves too: a counter still all run long is not counting.
        cmd = script(advance(t, zone, 100000) + "; " + advance(t, ZONE["rapl:package-1"], 50000),
                     " ".join([FAKESYS, t.root, "write", zone, "busy"]),
                     "sleep 0.3",
                     " ".join([FAKESYS, t.root, "write", zone, "1300000"]))
        p, doc = run_json(case, t, cmd)
    pkg = sensors(doc).get("rapl:package-0", {})
    case.eq(pkg.get("readable"), True, "readable")
    near(case, pkg.get("energy_j"), 0.3, "energy across the failed reads")
    near(case, doc.get("totals", {}).get("cpu_j"), 0.35, "cpu total still known")


@test
def a_counter_reset_is_reported_as_such(case):
    with Tree("intel-2s") as t:
        cmd = script(advance(t, ZONE["rapl:package-0"], 100000),
                     " ".join([FAKESYS, t.root, "write", ZONE["rapl:package-0"], "5"]))
        p, doc = run_json(case, t, cmd)
    pkg = sensors(doc).get("rapl:package-0", {})
    case.eq(pkg.get("energy_j", 0), None, "energy over a reset: unknown")
    case.has(pkg.get("reason"), "reset", "reason")
    case.eq(pkg.get("readable"), True, "a reset counter is still readable")


def refusing(flag):
    """A prefix for joules(): amdgpu's power1_input refuses reads with EBUSY
    while `flag` exists (tests/fault_preload.c)."""
    if WRAPPER:
        raise Skip("LD_PRELOAD beside the wrapper (valgrind) is not tested")
    asan = os.environ.get("ASAN_OPTIONS", "")
    return ("env", f"LD_PRELOAD={os.environ['FAULT_PRELOAD']}",
            "JOULES_FAULT_SUFFIX=/hwmon2/power1_input", f"JOULES_FAULT_FLAG={flag}",
            "JOULES_FAULT_ERRNO=16", f"ASAN_OPTIONS={asan}:verify_asan_link_order=0")


@test
def a_busy_gpu_is_a_gap_with_a_note(case):
    with Tree("hwmon-amdgpu") as t, scratch() as d:
        flag = os.path.join(d, "busy")
        cmd = ["sh", "-c", f"sleep 0.3; touch {flag}; sleep 0.4; rm -f {flag}; sleep 0.3"]
        p = joules("run", "--json", "--", *cmd, root=t.root, prefix=refusing(flag))
        doc = json.loads(p.stderr[p.stderr.index("{"):]) if "{" in p.stderr else {}
        out = os.path.join(d, "trace.csv")
        r = joules("record", "-o", out, "--", *cmd, root=t.root, prefix=refusing(flag))
    gpu = sensors(doc).get("hwmon:amdgpu:0000:0a:00.0:PPT", {})
    want = 120.0 * doc.get("duration_s", 0)
    near(case, gpu.get("energy_j"), want, "120 W over the run, across the gap", tol=0.1 * want)
    case.has(gpu.get("note"), "Device or resource busy", "the note says why")
    case.has(gpu.get("note"), "integrated across the gap", "and what was done")
    case.eq(r.returncode, 0, f"record exit status: {r.stderr}")
    case.has(r.stderr, "power samples failed", "record says so too")


@test
def a_jitter_drop_is_not_a_reset_and_a_jump_is(case):
    with Tree("intel-2s") as t:
        z = ZONE["rapl:package-0"]
        start = int(open(t.path(z)).read())
        # 60 µJ back (one RAPL step: rounding), then 0.1 J on.
        cmd = script(f"{FAKESYS} {t.root} write {z} {start - 60}",
                     f"{FAKESYS} {t.root} write {z} {start + 100000}")
        p, doc = run_json(case, t, cmd)
    near(case, sensors(doc).get("rapl:package-0", {}).get("energy_j"), 0.1, "energy over jitter")
    with Tree("intel-2s") as t:
        # break/11: 262 kJ in a moment, far above the 2 kW bound.
        cmd = script(advance(t, ZONE["rapl:package-0"], 262000000000))
        p, doc = run_json(case, t, cmd)
    pkg = sensors(doc).get("rapl:package-0", {})
    case.eq(pkg.get("energy_j", 0), None, "a jump is not energy")
    case.has(pkg.get("reason"), "jumped from", "the reason says what the counter did")
    case.has(pkg.get("reason"), "2000 W bound", "and against what")


@test
def a_wrap_during_the_run_is_exact(case):
    rng = 262143328850
    with Tree("intel-2s") as t:
        t.fs("write", ZONE["rapl:package-0"], f"{rng - 30000}\n")
        cmd = script(advance(t, ZONE["rapl:package-0"], 20000),
                     f"{FAKESYS} {t.root} advance {ZONE['rapl:package-0']} 20000 {rng + 1}",
                     f"{FAKESYS} {t.root} advance {ZONE['rapl:package-0']} 20000 {rng + 1}")
        p, doc = run_json(case, t, cmd)
    pkg = sensors(doc).get("rapl:package-0", {})
    near(case, pkg.get("energy_j"), 0.06, "energy across the wrap")
    case.eq(pkg.get("wraps"), 1, "wraps seen")


@test
def unreadable_sensors_named_with_the_reason_for_a_normal_user(case):
    need_root()
    p = subprocess.run([*AS_NOBODY, "test", "-x", JOULES], capture_output=True)
    if p.returncode != 0:
        raise Skip("nobody cannot run the built joules (a private directory above it)")
    with Tree("intel-2s") as t:
        t.fs("chmod", ZONE["rapl:package-0"], "400")
        p = joules("run", "--json", "--", "true", root=t.root, prefix=AS_NOBODY)
        doc = json.loads(p.stderr[p.stderr.index("{"):])
        text = joules("run", "--", "true", root=t.root, prefix=AS_NOBODY).stderr
    case.eq(p.returncode, 0, "runs for a normal user")
    locked = sensors(doc).get("rapl:package-0", {})
    case.eq(locked.get("readable"), False, "root-only zone")
    case.has(locked.get("reason"), "permission denied", "reason")
    case.eq(locked.get("energy_j", 0), None, "no energy")
    case.eq(sensors(doc).get("rapl:package-1", {}).get("readable"), True, "the others read")
    case.has(text, "rapl:package-0", "text names it")
    case.has(text, "permission denied", "text says why")


@test
def unwritable_output_fails_before_running_the_command(case):
    with Tree("intel-2s") as t, scratch() as d:
        mark = os.path.join(d, "ran")
        p = joules("run", "-o", os.path.join(d, "no", "such", "dir.txt"), "--", "touch", mark,
                   root=t.root)
        case.eq(p.returncode, 1, "exit status")
        case.has(p.stderr, "no/such/dir.txt: No such file or directory", "message")
        case.check(not os.path.exists(mark), "the command did not run")
        p = joules("run", "-o", "/dev/full", "--", "true", root=t.root)
        case.eq(p.returncode, 1, "a full disk")
        case.has(p.stderr, "cannot write the report to /dev/full", "message")


@test
def usage_errors_and_help(case):
    for args, part in ((["run"], "no command to run"), (["run", "-i", "x", "true"], "-i 'x'"),
                       (["run", "-r", "0", "true"], "-r '0'"), (["run", "--bogus"], "unknown option"),
                       (["run", "--baseline=-1", "true"], "--baseline '-1'")):
        p = joules(*args)
        case.eq(p.returncode, 2, f"{args}")
        case.has(p.stderr, part, f"{args} message")
    p = joules("run", "--help")
    case.eq(p.returncode, 0, "--help")
    for opt in ("-e, --sensors", "-i, --interval", "-r, --repeat", "--baseline S", "--json",
                "--csv", "-o, --output", "Exit status", "127", "126", "SIGTERM"):
        case.has(p.stdout, opt, "--help")


if __name__ == "__main__":
    main()
