#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Raw data for GPU 0's region edges and uncertainty (issue 14), replayed offline.

Usage: device_edges.py LIBJOULES_SO NVML_TRACE OUT_DIR

While nvml_trace records, in their own processes, the energy counter (polled
back to back) and the driver's 20 ms power samples, runs bursts of a bf16
and a lighter fp32 matmul load, 0.05 s .. 10 s, and takes joules readings
(the public API through ctypes) at marked moments of each burst:
  pre      150 ms before the load starts (idle)
  start    right before the first kernel
  mid      every 250 ms inside bursts of >= 1 s (steady load)
  stop     right after torch.cuda.synchronize() returns at the load's end
  post+N   N ms after the stop (10, 20, 40, 80, 160): idle, or the tail
Each reading is kept as first read (provisional) and settled. With
$EDGES_QUICK set: the bf16 load only, half the repetitions, no 10 s burst. Writes
OUT_DIR/edges.json (readings with their marks) beside counter.csv and
samples.csv; tools/nvml_replay.c and tools/edges_analyze.py do the rest on
any machine. Asserts nothing.
"""
import json
import os
import subprocess
import sys
import time

import torch

from device_joules import Joules, Reading

LIB, TRACE, OUT = sys.argv[1], sys.argv[2], sys.argv[3]


class GpuJoules(Joules):
    """GPU 0's sensor index beside the context."""

    def __init__(self, path):
        super().__init__(path)
        self.idx = [i for i, s in enumerate(self.ids) if s.startswith("nvml:")][0]


def main():
    j = GpuJoules(LIB)
    procs = [subprocess.Popen([TRACE, "counter", f"{OUT}/counter.csv", "1000"]),
             subprocess.Popen([TRACE, "samples", f"{OUT}/samples.csv", "200000"])]
    loads = {"bf16": [torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
                      for _ in range(2)],
             "fp32": [torch.randn(4096, 4096, dtype=torch.float32, device="cuda")
                      for _ in range(2)]}
    rows = []

    def mark(burst, what, snaps):
        snaps.append((what, j.read()))

    def run(load, seconds, burst):
        a, b = loads[load]
        snaps = []
        time.sleep(0.8)
        mark(burst, "pre", snaps)
        time.sleep(0.15)
        torch.cuda.synchronize()
        mark(burst, "start", snaps)
        t0 = time.monotonic()
        next_mid = t0 + 0.25
        while time.monotonic() - t0 < seconds:
            torch.matmul(a, b)
            torch.cuda.synchronize()
            if seconds >= 1.0 and time.monotonic() >= next_mid:
                mark(burst, "mid", snaps)
                next_mid += 0.25
        mark(burst, "stop", snaps)
        t_stop = time.monotonic()
        for ms in (10, 20, 40, 80, 160):
            time.sleep(max(0.0, t_stop + ms / 1000 - time.monotonic()))
            mark(burst, f"post+{ms}", snaps)
        for what, snap in snaps:
            first = Reading.from_buffer_copy(snap[j.idx])
            j.settle(snap)
            s = snap[j.idx]
            rows.append({"burst": burst, "load": load, "seconds": seconds, "mark": what,
                         "time_ns": s.time_ns, "energy_uj": s.energy_uj,
                         "unc_uj": s.uncertainty_uj, "status": s.status, "flags": s.flags,
                         "first_energy_uj": first.energy_uj, "first_unc_uj": first.uncertainty_uj})

    run("bf16", 2.0, -1)  # warm-up
    plan = []
    quick = bool(os.environ.get("EDGES_QUICK"))  # one load, fewer repetitions (~1 min)
    for load in ("bf16",) if quick else ("bf16", "fp32"):
        for d, reps in ((0.05, 4), (0.1, 4), (0.2, 5), (0.5, 5), (1.0, 4), (2.0, 3), (5.0, 2)):
            plan += [(load, d)] * (max(1, reps // 2) if quick else reps)
    plan += [] if quick else [("bf16", 10.0)]
    for k, (load, d) in enumerate(plan):
        run(load, d, k)
    time.sleep(1.0)
    for p in procs:
        p.terminate()
        p.wait()
    with open(f"{OUT}/edges.json", "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "gpu": torch.cuda.get_device_name(0),
                   "readings": rows}, f)
    print(f"{len(rows)} readings over {len(plan)} bursts")


main()
