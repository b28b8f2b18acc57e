#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cost of `with joules.measure():` (enter + exit, the Python bindings over
libjoules) against an empty `with` (contextlib.nullcontext) measured in the
same run: medians of batches, printed as a ratio. Sensors: a fake
two-socket tree (8 RAPL zones; FAKESYS makes it), or this machine's own
with `python_measure.py real`. Never asserts on time."""
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
        print(f"python_measure: {n} sensors, empty with {floor:.3f} µs, "
              f"with joules.measure() {cost:.1f} µs, ratio {cost / floor:.0f}")
    finally:
        joules.default_meter().close()
        if root:
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
