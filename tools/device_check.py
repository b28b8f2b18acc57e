#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""GPU 0 energy through libjoules (ctypes, the public API) against two references.

Usage: device_check.py LIBJOULES_SO NVML_TRACE OUT_DIR

- identity and state: `joules gpu --json` (OUT_DIR/gpu.json) against pynvml
  for every GPU: names, UUIDs, bus ids, memory, power limit;
- bf16 matmul bursts of 50 ms .. 5 s (3 each) and one 10 s run, each bracketed
  by torch.cuda.synchronize(): joules' energy between a snapshot before and
  after, settled (joules_settle) and as first read, against the reference:
  the NVML energy counter (traced by nvml_trace in its own process), its
  100 ms steps located in time and shaped in between by the driver's 20 ms
  power samples (also traced in their own process). Also shown: the samples
  alone, the counter linear between steps (the earlier reference), and a
  lag-free check (the counter across the burst and 0.3/0.6 s of idle around
  it, less the samples' energy of that idle).
Writes OUT_DIR/device_check.json and a readable OUT_DIR/device_check.txt.
"""
import bisect
import csv
import json
import statistics
import subprocess
import sys
import time

import pynvml
import torch

from device_joules import Joules, Reading

LIB, TRACE, OUT = sys.argv[1], sys.argv[2], sys.argv[3]


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


class References:
    """The energy counter and the 20 ms power samples, each traced by
    nvml_trace in its own process (so their slow calls never delay
    libjoules' sampler, nor each other), on the monotonic clock."""

    def __init__(self, trace, out):
        self.out = out
        self.procs = [subprocess.Popen([trace, "counter", f"{out}/counter.csv", "1000"]),
                      subprocess.Popen([trace, "samples", f"{out}/samples.csv", "500000"])]

    def stop(self):
        for p in self.procs:
            p.terminate()
            p.wait()
        rows = read_csv(f"{self.out}/counter.csv")
        c = [(int(r["mono_a_ns"]), int(r["mono_b_ns"]), int(r["energy_mj"])) for r in rows]
        self.call_ms = statistics.median((b - a) / 1e6 for a, b, _ in c)
        # A step happened between the previous call's end and this call's end.
        self.steps = [((c[i - 1][1] + c[i][1]) / 2, c[i][2] / 1e3)
                      for i in range(1, len(c)) if c[i][2] != c[i - 1][2]]
        self.step_t = [t for t, _ in self.steps]
        rows = read_csv(f"{self.out}/samples.csv")
        off = int(rows[0]["real_b_ns"]) - int(rows[0]["mono_b_ns"])
        pts = sorted({(int(r["ts_us"]) * 1000 - off, int(r["power_mw"]) / 1e3) for r in rows})
        self.st = [t for t, _ in pts]
        self.cum = [0.0]
        for k in range(1, len(pts)):  # sample k: mean power over (t[k-1], t[k]]
            self.cum.append(self.cum[-1] + pts[k][1] * (pts[k][0] - pts[k - 1][0]) / 1e9)
        self.pw = [p for _, p in pts]

    def samples_j(self, t):
        k = bisect.bisect_left(self.st, t)
        if k <= 0 or k >= len(self.st):
            raise ValueError("outside the samples")
        return self.cum[k - 1] + self.pw[k] * (t - self.st[k - 1]) / 1e9

    def counter_j(self, t):
        """The counter at t: its steps, and between two steps the samples' shape."""
        k = bisect.bisect_right(self.step_t, t)
        if k <= 0 or k >= len(self.steps):
            raise ValueError("outside the counter steps")
        (ta, ea), (tb, eb) = self.steps[k - 1], self.steps[k]
        whole = self.samples_j(tb) - self.samples_j(ta)
        return ea + (eb - ea) * (self.samples_j(t) - self.samples_j(ta)) / whole

    def counter_linear_j(self, t):
        """The counter at t, linear between its steps (the earlier reference)."""
        k = bisect.bisect_right(self.step_t, t)
        if k <= 0 or k >= len(self.steps):
            raise ValueError("outside the counter steps")
        (ta, ea), (tb, eb) = self.steps[k - 1], self.steps[k]
        return ea + (eb - ea) * (t - ta) / (tb - ta)


def burst(seconds, a, b):
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        torch.matmul(a, b)
        torch.cuda.synchronize()


def main():
    pynvml.nvmlInit()
    out = {"date": time.strftime("%Y-%m-%d"), "driver": pynvml.nvmlSystemGetDriverVersion(),
           "nvml": pynvml.nvmlSystemGetNVMLVersion()}
    # 1. Identity and state against `joules gpu --json`.
    with open(f"{OUT}/gpu.json") as f:
        jg = json.load(f)
    cmp = []
    for g in jg["gpus"]:
        h = pynvml.nvmlDeviceGetHandleByIndex(g["index"])
        mem = pynvml.nvmlDeviceGetMemoryInfo(h)
        ref = {"name": pynvml.nvmlDeviceGetName(h), "uuid": pynvml.nvmlDeviceGetUUID(h),
               "pci_bus_id": pynvml.nvmlDeviceGetPciInfo(h).busId,
               "memory_total": mem.total, "memory_used": mem.used,
               "power_limit_w": pynvml.nvmlDeviceGetEnforcedPowerLimit(h) / 1000}
        ref = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in ref.items()}
        got = {"name": g["name"], "uuid": g["uuid"], "pci_bus_id": g["pci_bus_id"],
               "memory_total": g["memory"]["total_bytes"], "memory_used": g["memory"]["used_bytes"],
               "power_limit_w": g["power_limit_w"]}
        cmp.append({"index": g["index"], "joules": got, "pynvml": ref,
                    "identical": {k: got[k] == ref[k] for k in ref}})
    out["identity"] = cmp

    # 2. Energy of bursts on GPU 0, each bracketed by torch.cuda.synchronize().
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    uuid = pynvml.nvmlDeviceGetUUID(h)
    uuid = uuid.decode() if isinstance(uuid, bytes) else uuid
    j = Joules(LIB)
    idx = j.ids.index("nvml:" + uuid)
    ref = References(TRACE, OUT)
    a = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    b = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    burst(2.0, a, b)  # warm up clocks and kernels
    time.sleep(1.0)
    regions = []
    plan = [(d, k) for d in (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0) for k in range(3)] + [(10.0, 0)]
    for d, k in plan:
        time.sleep(0.7)
        torch.cuda.synchronize()
        r0 = j.read()
        burst(d, a, b)
        r1 = j.read()
        p0, p1 = Reading.from_buffer_copy(r0[idx]), Reading.from_buffer_copy(r1[idx])
        j.settle(r0)
        j.settle(r1)
        regions.append((d, k, p0, p1, Reading.from_buffer_copy(r0[idx]),
                        Reading.from_buffer_copy(r1[idx])))
    time.sleep(1.0)  # the counter steps past the last region
    ref.stop()
    j.close()
    rows = []
    for d, k, p0, p1, s0, s1 in regions:
        t0, t1 = s0.time_ns, s1.time_ns
        ej = (s1.energy_uj - s0.energy_uj) / 1e6
        unc = (s0.uncertainty_uj + s1.uncertainty_uj) / 1e6
        provisional = (p1.energy_uj - p0.energy_uj) / 1e6
        try:
            er = ref.counter_j(t1) - ref.counter_j(t0)
            lin = ref.counter_linear_j(t1) - ref.counter_linear_j(t0)
            es = ref.samples_j(t1) - ref.samples_j(t0)
            # Lag-free check: the counter across the burst with 0.3/0.6 s of
            # idle around it, less the samples' energy of that idle.
            w0, w1 = t0 - 300_000_000, t1 + 600_000_000
            ew = (ref.counter_j(w1) - ref.counter_j(w0) - (ref.samples_j(t0) - ref.samples_j(w0))
                  - (ref.samples_j(w1) - ref.samples_j(t1)))
        except ValueError:
            continue
        pct = lambda x: (x - er) / er * 100
        rows.append({"burst_s": d, "rep": k, "region_s": (t1 - t0) / 1e9, "joules_j": ej,
                     "joules_unc_j": unc, "provisional_j": provisional,
                     "status": [s0.status, s1.status], "reference_j": er, "samples_j": es,
                     "window_ref_j": ew, "linear_ref_j": lin,
                     "err_vs_ref_pct": pct(ej), "provisional_err_pct": pct(provisional),
                     "samples_vs_ref_pct": pct(es), "window_vs_ref_pct": pct(ew),
                     "linear_vs_ref_pct": pct(lin), "ref_within_unc": abs(ej - er) <= unc})
    out["bursts"] = rows
    out["counter_call_ms_median"] = ref.call_ms
    summary = {}
    keys = ("err_vs_ref_pct", "provisional_err_pct", "samples_vs_ref_pct", "window_vs_ref_pct",
            "linear_vs_ref_pct")
    for d in sorted({r["burst_s"] for r in rows}):
        rs = [r for r in rows if r["burst_s"] == d]
        summary[str(d)] = {key: [round(r[key], 2) for r in rs] for key in keys}
        summary[str(d)].update({"ref_j": [round(r["reference_j"], 2) for r in rs],
                                "unc_j": [round(r["joules_unc_j"], 2) for r in rs],
                                "within_unc": [r["ref_within_unc"] for r in rs]})
    out["summary"] = summary
    with open(f"{OUT}/device_check.json", "w") as f:
        json.dump(out, f, indent=1)
    with open(f"{OUT}/device_check.txt", "w") as f:
        f.write(f"date {out['date']} driver {out['driver']} nvml {out['nvml']}\n")
        f.write(f"energy counter call (nvml_trace, own process): median {out['counter_call_ms_median']:.2f} ms\n")
        for c in cmp:
            f.write(f"gpu {c['index']} identical to pynvml: {c['identical']}\n")
        f.write("errors % against the counter reference (counter steps, shaped by the 20 ms samples)\n")
        for d, s in summary.items():
            f.write(f"{d:>5} s: settled {s['err_vs_ref_pct']} | provisional {s['provisional_err_pct']} | "
                    f"samples {s['samples_vs_ref_pct']} | window ref {s['window_vs_ref_pct']} | "
                    f"linear ref {s['linear_vs_ref_pct']} | ref J {s['ref_j']} | unc J {s['unc_j']} | "
                    f"within unc {s['within_unc']}\n")
    print(open(f"{OUT}/device_check.txt").read())


main()
