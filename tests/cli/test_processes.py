#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The command joules runs never outlives it: a reader that goes away
(record -o - | head -1) ends it instead of killing joules by SIGPIPE; it is
killed when joules is; a command that ignores the signal meant to stop it
is killed by a second signal or after --kill-after, and what a command
joules stopped left running is ended with it. record -o - keeps the
command's stdout out of the trace; --baseline takes its value as perf
options do."""
import csv
import io
import json
import os
import shlex
import signal
import subprocess
import time

from clitest import JOULES, TIMEOUT_S, WRAPPER, main, test
from runtest import Tree, scratch, wait_for


def tree():
    t = Tree()
    t.zone("intel-rapl:0", "package-0", 1000)
    return t


def start(t, *args, **kw):
    env = dict(os.environ, JOULES_SYSFS_ROOT=t.root)
    return subprocess.Popen([*WRAPPER, JOULES, *args], env=env, stderr=subprocess.PIPE, **kw)


def alive(pid):
    """Whether pid is a live process (not gone, not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def gone(pid):
    """Wait for pid to end; False if it still runs after TIMEOUT_S (a hang, not a speed)."""
    end = time.monotonic() + TIMEOUT_S
    while alive(pid):
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            return False
        time.sleep(0.05)
    return True


def finish(p):
    """p's exit status, or None when it still ran after TIMEOUT_S (then killed)."""
    try:
        return p.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def pid_of(path):
    wait_for(path)
    for _ in range(100):
        with open(path) as f:
            text = f.read().strip()
        if text:
            return int(text)
        time.sleep(0.02)
    raise AssertionError(f"{path} stayed empty")


# Writes its pid, then runs until killed.
def sleeper(pidfile, ignore=""):
    trap = f"trap '' {ignore}; " if ignore else ""
    return ["sh", "-c", f"{trap}echo $$ > {pidfile}; while :; do sleep 0.05; done"]


@test
def a_reader_that_goes_away_ends_the_command_not_joules(case):
    with tree() as t, scratch() as d:
        pidfile = os.path.join(d, "pid")
        p = start(t, "record", "-o", "-", "-i", "20", "--", *sleeper(pidfile),
                  stdout=subprocess.PIPE)
        header = p.stdout.readline()
        cmd = pid_of(pidfile)
        p.stdout.close()  # as `head -1` does
        rc = finish(p)
        case.check(gone(cmd), "the command was left running")
        err = p.stderr.read().decode()  # once the command, which shares it, is gone
    case.eq(header, b"time_s,sensor,watts,joules,total\n",
            "the header came")
    case.eq(rc, 1, f"exit status (not death by SIGPIPE); stderr {err}")
    case.has(err, "Broken pipe", "says why")


@test
def the_command_dies_with_joules(case):
    with tree() as t, scratch() as d:
        pidfile = os.path.join(d, "pid")
        for args in (["run"], ["record", "-o", os.path.join(d, "t.csv")]):
            p = start(t, *args, "--", *sleeper(pidfile))
            cmd = pid_of(pidfile)
            p.kill()
            finish(p)
            case.check(gone(cmd), f"{args[0]}: the command outlived joules (SIGKILL)")
            p.stderr.close()
            os.unlink(pidfile)


@test
def what_a_stopped_command_started_ends_with_it(case):
    with tree() as t, scratch() as d:
        pidfile = os.path.join(d, "pid")
        inner = " ".join(shlex.quote(a) for a in sleeper(pidfile))
        # The reader goes away: joules ends the command, a shell, and what it runs.
        p = start(t, "record", "-o", "-", "-i", "20", "--", "sh", "-c", f"{inner}; true",
                  stdout=subprocess.PIPE)
        p.stdout.readline()
        cmd = pid_of(pidfile)
        p.stdout.close()
        finish(p)
        case.check(gone(cmd), "record: what the command started still runs")
        p.stderr.close()
        os.unlink(pidfile)
        # A command that ignores SIGTERM, killed after --kill-after: what it runs too.
        p = start(t, "run", "--kill-after", "0.3", "--", "sh", "-c",
                  f"trap '' TERM; {inner}; true")
        cmd = pid_of(pidfile)
        p.send_signal(signal.SIGTERM)
        finish(p)
        case.check(gone(cmd), "run: what the command started still runs")
        p.stderr.close()


@test
def a_second_signal_kills_a_command_that_ignores_the_first(case):
    with tree() as t, scratch() as d:
        pidfile = os.path.join(d, "pid")
        p = start(t, "run", "--kill-after", "600", "--", *sleeper(pidfile, "INT TERM"))
        cmd = pid_of(pidfile)
        p.send_signal(signal.SIGINT)
        time.sleep(0.2)
        case.check(alive(cmd), "the command ignores SIGINT")
        p.send_signal(signal.SIGINT)
        rc = finish(p)
        case.check(gone(cmd), "the command is gone")
        p.stderr.close()
    case.eq(rc, 128 + signal.SIGKILL, "exit status: the command was killed")


@test
def kill_after_ends_a_command_that_ignores_the_signal(case):
    with tree() as t, scratch() as d:
        pidfile = os.path.join(d, "pid")
        for args in (["run"], ["record", "-o", os.path.join(d, "t.csv")]):
            p = start(t, *args, "--kill-after", "0.3", "--", *sleeper(pidfile, "TERM"))
            cmd = pid_of(pidfile)
            p.send_signal(signal.SIGTERM)
            rc = finish(p)
            case.check(gone(cmd), f"{args[0]}: the command is gone")
            err = p.stderr.read().decode()
            case.eq(rc, 128 + signal.SIGKILL, f"{args[0]}: exit status; stderr {err}")
            case.has(err, "killing it (SIGKILL)", f"{args[0]}: says so")
            os.unlink(pidfile)


@test
def record_to_stdout_keeps_the_commands_stdout_out_of_the_trace(case):
    with tree() as t:
        for out_arg in ("-", "/dev/stdout"):
            p = start(t, "record", "-o", out_arg, "-i", "10", "--", "sh", "-c",
                      "sleep 0.05; echo hello from the command; sleep 0.05",
                      stdout=subprocess.PIPE)
            out, err = p.communicate(timeout=TIMEOUT_S)
            rows = list(csv.reader(io.StringIO(out.decode())))
            case.eq(p.returncode, 0, f"-o {out_arg}: exit status; stderr {err}")
            case.check(len(rows) > 2, f"-o {out_arg}: rows: {rows}")
            case.eq([r for r in rows if len(r) != 5], [],
                    f"-o {out_arg}: lines of stdout that are not trace rows")
            case.has(err.decode(), "hello from the command",
                     f"-o {out_arg}: the command's stdout went to stderr")


@test
def baseline_takes_its_value_as_perf_options_do(case):
    with tree() as t:
        for args in (["--baseline", "0.2"], ["--baseline=0.2"]):
            p = start(t, "run", "--json", *args, "--", "true")
            _, err = p.communicate(timeout=TIMEOUT_S)
            case.eq(p.returncode, 0, f"{args}: runs true, not '0.2'; stderr {err}")
            doc = json.loads(err.decode() or "{}")
            case.eq(doc.get("command"), ["true"], f"{args}: the command")
            case.eq(doc.get("baseline_s"), 0.2, f"{args}: baseline_s")
        p = start(t, "run", "--baseline", "--", "true")
        _, err = p.communicate(timeout=TIMEOUT_S)
    case.eq(p.returncode, 2, "--baseline without a value is a usage error")
    case.has(err.decode(), "--baseline '--'", "naming the option and what it got")


if __name__ == "__main__":
    main()
