#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cost of `with joules.measure():` (enter + exit, the Python bindings over
libjoules) against an empty `with` (contextlib.nullcontext), and against
the same region from C (joules_region_begin + _end on the same tree, timed
by `BENCH_SNAPSHOT --root ROOT --region`), all in the same run: medians of
batches, printed as bench/report.h lines for bench/run. Sensors: a fake
two-socket tree (8 RAPL zones; FAKESYS makes it), or this machine's own
with `python_measure.py real` (then without the C row). Never asserts on
time."""
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time

import joules

BATCH, BATCHES = 200, 15


def per_call_us(make) -> float:
    """Median over batches of one `with make():` enter + exit, µs."""
    runs = []
    for _ in range(BATCHES):
        t0 = time.perf_counter_ns()
        for _ in range(BATCH):
            with make():
                pass
        runs.append((time.perf_counter_ns() - t0) / BATCH / 1e3)
    return statistics.median(runs)


def row(name: str, value: float, unit: str, floor_label: str, floor: float,
        target: str = "") -> None:
    print(f"BENCH\t{name}\t{value:.6g}\t{unit}\t{floor_label}\t{floor:.6g}\t{target}",
          flush=True)


def c_region_us(root: str) -> float:
    """The C region's median µs from bench_snapshot's BENCH line (printed on)."""
    out = subprocess.run([os.environ["BENCH_SNAPSHOT"], "--root", root, "--region"],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        print(line, flush=True)
        if line.startswith("BENCH\t"):
            return float(line.split("\t")[2])
    raise RuntimeError(f"bench_snapshot --region printed no BENCH line:\n{out}")


def main() -> None:
    root = None
    if sys.argv[1:] != ["real"]:
        root = subprocess.run([os.environ["FAKESYS"], "new", "intel-2s"], check=True,
                              capture_output=True, text=True).stdout.strip()
        os.environ["JOULES_SYSFS_ROOT"] = root
    try:
        n = len(joules.default_meter().sensors)
        per_call_us(joules.measure)  # warm: first region, caches
        floor = per_call_us(contextlib.nullcontext)
        cost = per_call_us(joules.measure)
        floor2 = per_call_us(contextlib.nullcontext)
        floor = min(floor, floor2)
        where = "fake intel-2s" if root else "this machine"
        row(f"python `with joules.measure()` enter + exit, {n} sensors ({where})", cost, "µs",
            "empty `with` (contextlib.nullcontext)", floor)
        if root:
            c_us = c_region_us(root)
            cost2 = per_call_us(joules.measure)
            row(f"python `with joules.measure()` vs the same region from C, {n} sensors",
                statistics.median([cost, cost2]), "µs",
                "joules_region_begin + _end from C", c_us)
    finally:
        joules.default_meter().close()
        if root:
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
