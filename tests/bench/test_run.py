#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/run, the benchmark runner, as TAP: its table logic (ratio, target,
met, skipped rows), and real runs on the build: the GPU rows without a GPU,
the direct snapshot's allocation count (0, from the malloc interposer; a
"not counted" row under ASan), and a benchmark that cannot run failing the
runner. Asserts nothing about time.

Usage: test_run.py BUILDDIR SANITIZE (meson's b_sanitize)"""
import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "..", "..", "bench", "run")
BUILD, SANITIZE = sys.argv[1], sys.argv[2]

loader = importlib.machinery.SourceFileLoader("bench_run", RUN)
spec = importlib.util.spec_from_loader("bench_run", loader)
runner = importlib.util.module_from_spec(spec)
loader.exec_module(runner)

results = []


def check(ok, what):
    results.append((bool(ok), what))


def run_json(*args):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "bench.json")
        p = subprocess.run([sys.executable, RUN, "--builddir", BUILD, "--json", out, *args],
                           capture_output=True, text=True, timeout=300)
        with open(out) as f:
            return p, json.load(f)


def table_logic():
    echoed = io.StringIO()  # parse() echoes other lines: keep them out of the TAP stream
    with contextlib.redirect_stdout(echoed):
        rows = runner.parse("x", "log line\n"
                            "BENCH\tfast\t2\tµs\tfloor\t4\tratio <= 0.6\n"
                            "BENCH\tslow\t3\tµs\tfloor\t2\tratio <= 1.3\n"
                            "BENCH\tcount\t0\tallocs\t\t\tvalue == 0\n"
                            "BENCH\tbusy\t5\treq/s\techo\t10\tratio >= 0.5\n"
                            "BENCH\tplain\t7\ts\tawk\t1\t\n"
                            "BENCH-SKIP\tgpu\tvalue <= 20\tneeds a GPU\n")
    check(len(rows) == 6, "six rows from six BENCH lines, the log line left out")
    check(echoed.getvalue() == "  log line\n", "the log line echoed as it came")
    by = {r["figure"]: r for r in rows}
    check(by["fast"]["ratio"] == 0.5 and by["fast"]["met"] is True, "ratio 0.5 meets <= 0.6")
    check(by["slow"]["ratio"] == 1.5 and by["slow"]["met"] is False, "ratio 1.5 misses <= 1.3")
    check(by["count"]["ratio"] is None and by["count"]["met"] is True,
          "a value target without a floor: met on the value")
    check(by["busy"]["met"] is True, ">= on the ratio (0.5 >= 0.5)")
    check(by["plain"]["met"] is None and by["plain"]["ratio"] == 7, "no target: met is None")
    check(by["gpu"]["skipped"] == "needs a GPU" and by["gpu"]["met"] is None, "a skipped row")
    md = runner.markdown_table(rows).splitlines()
    check(len(md) == 8 and "| slow | 3 µs | floor: 2 µs | 1.5 | ratio <= 1.3 | NO |" in md,
          "the Markdown table has a line per row, a miss says NO")


def gpu_rows_without_a_gpu():
    p, j = run_json("--only", "nvml_boundary,region_sampler_gpu")
    check(p.returncode == 0, f"runner exits 0 ({p.returncode}: {p.stderr.strip()})")
    skipped = [r for r in j["rows"] if r["skipped"]]
    check(len(j["rows"]) == 5 and len(skipped) == 5 and
          all(r["skipped"].startswith("needs a GPU") for r in skipped),
          "every GPU row says 'needs a GPU'")
    check(any(r["target"] == "value <= 20" for r in skipped), "the boundary's target is kept")
    check(j["machine"]["nproc"] and j["date"] and "--only" in j["command"],
          "the JSON names the machine, date and command")


def snapshot_allocations():
    p, j = run_json("--only", "snapshot")
    check(p.returncode == 0, f"runner exits 0 ({p.returncode}: {p.stderr.strip()})")
    rows = {r["figure"]: r for r in j["rows"]}
    snap = [r for f, r in rows.items() if f.startswith("direct snapshot")]
    check(len(snap) == 1 and "32 sensors" in snap[0]["figure"] and snap[0]["ratio"] > 0,
          "the direct snapshot of the 8-socket tree has a ratio to its floor")
    alloc = rows.get("allocations per direct snapshot")
    if "address" in SANITIZE:
        check(alloc and alloc["skipped"] == "not counted under AddressSanitizer",
              "allocations not counted under ASan, and said so")
    else:
        check(alloc and alloc["value"] == 0 and alloc["met"] is True,
              f"joules_read allocates nothing ({alloc and alloc['value']} per call)")
        check("joules_open made" in p.stdout and "made 0 allocations" not in p.stdout,
              "the interposer sees joules_open allocate (so it would see joules_read)")


def a_benchmark_that_cannot_run():
    with tempfile.TemporaryDirectory() as empty:
        out = os.path.join(empty, "bench.json")
        p = subprocess.run([sys.executable, RUN, "--builddir", empty, "--only", "snapshot"],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 1 and "benchmark snapshot" in p.stderr,
              f"a missing benchmark fails the runner ({p.returncode}: {p.stderr.strip()})")
        with open(out) as f:
            check(json.load(f)["failed"], "and the JSON says which failed")


def main():
    tests = [table_logic, gpu_rows_without_a_gpu, snapshot_allocations,
             a_benchmark_that_cannot_run]
    for t in tests:
        try:
            t()
        except Exception:
            results.append((False, f"{t.__name__} raised:\n" + traceback.format_exc()))
    print(f"1..{len(results)}")
    for i, (ok, what) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - " + what.replace("\n", "\n# "))
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
