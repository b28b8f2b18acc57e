#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""GPU 0 energy through libjoules (ctypes, the public API) against two references.

Usage: device_check.py LIBJOULES_SO OUT_DIR

- identity and state: `joules gpu --json` (OUT_DIR/gpu.json) against pynvml
  for every GPU: names, UUIDs, bus ids, memory, power limit;
- bf16 matmul bursts of 20 ms .. 5 s (3 each) and one 10 s run: joules'
  energy between a reading before and after each burst, against
  (a) the NVML energy counter polled continuously in a thread, its 100 ms
      steps located in time and interpolated linearly (the reference), and
  (b) nvmlDeviceGetSamples(NVML_TOTAL_POWER_SAMPLES), 20 ms-spaced power,
      integrated over the same interval.
Writes OUT_DIR/device_check.json and a readable OUT_DIR/device_check.txt.
"""
import ctypes
import json
import statistics
import sys
import threading
import time

import pynvml
import torch

LIB, OUT = sys.argv[1], sys.argv[2]


class Reading(ctypes.Structure):
    _fields_ = [("energy_uj", ctypes.c_uint64), ("time_ns", ctypes.c_uint64),
                ("uncertainty_uj", ctypes.c_uint32), ("resets", ctypes.c_uint32),
                ("status", ctypes.c_int32), ("flags", ctypes.c_uint32)]


class Joules:
    def __init__(self, path):
        self.lib = lib = ctypes.CDLL(path)
        lib.joules_open.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p]
        lib.joules_sensor_count.argtypes = [ctypes.c_void_p]
        lib.joules_sensor_count.restype = ctypes.c_size_t
        lib.joules_sensor.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.joules_sensor.restype = ctypes.c_void_p
        lib.joules_read.argtypes = [ctypes.c_void_p, ctypes.POINTER(Reading), ctypes.c_size_t]
        lib.joules_close.argtypes = [ctypes.c_void_p]
        self.ctx = ctypes.c_void_p()
        rc = lib.joules_open(ctypes.byref(self.ctx), None)
        assert rc == 0, rc
        self.n = lib.joules_sensor_count(self.ctx)
        self.buf = (Reading * max(self.n, 1))()
        # struct joules_sensor starts with char id[64], name[64], source[16].
        self.ids = [ctypes.string_at(lib.joules_sensor(self.ctx, i)).decode() for i in range(self.n)]

    def read(self, i):
        self.lib.joules_read(self.ctx, self.buf, self.n)
        r = self.buf[i]
        return Reading(r.energy_uj, r.time_ns, r.uncertainty_uj, r.resets, r.status, r.flags)

    def close(self):
        self.lib.joules_close(self.ctx)


class CounterReference(threading.Thread):
    """Polls the energy counter; records (time of step, mJ) at every change."""

    def __init__(self, handle):
        super().__init__(daemon=True)
        self.h, self.steps, self.stop, self.lock = handle, [], False, threading.Lock()
        self.call_ns = []

    def run(self):
        last, last_end = None, None
        while not self.stop:
            a = time.monotonic_ns()
            v = pynvml.nvmlDeviceGetTotalEnergyConsumption(self.h)
            b = time.monotonic_ns()
            self.call_ns.append(b - a)
            if v != last and last_end is not None:
                with self.lock:
                    # The step happened after the previous call ended, before this one did.
                    self.steps.append(((last_end + b) / 2, v))
            last, last_end = v, b
            time.sleep(0.001)

    def energy_mj_at(self, t):
        with self.lock:
            s = list(self.steps)
        for (t0, e0), (t1, e1) in zip(s, s[1:]):
            if t0 <= t <= t1:
                return e0 + (e1 - e0) * (t - t0) / (t1 - t0)
        raise ValueError("time outside the recorded steps")


def samples_energy_j(handle, t0_ns, t1_ns, rt_offset_ns):
    """Integrate 20 ms power samples (linear between them) over [t0, t1] (monotonic ns)."""
    _, samples = pynvml.nvmlDeviceGetSamples(handle, pynvml.NVML_TOTAL_POWER_SAMPLES, 0)
    pts = sorted((s.timeStamp * 1000 - rt_offset_ns, s.sampleValue.uiVal / 1000.0) for s in samples)
    if not pts or pts[0][0] > t0_ns or pts[-1][0] < t1_ns:
        return None
    e, step = 0.0, 100_000  # 0.1 ms grid
    t = t0_ns
    k = 0
    while t < t1_ns:
        while pts[k + 1][0] < t:
            k += 1
        (ta, pa), (tb, pb) = pts[k], pts[k + 1]
        p = pa + (pb - pa) * (t - ta) / (tb - ta) if tb > ta else pa
        dt = min(step, t1_ns - t)
        e += p * dt / 1e9
        t += dt
    return e


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

    # 2. Energy of bursts on GPU 0.
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    uuid = pynvml.nvmlDeviceGetUUID(h)
    uuid = uuid.decode() if isinstance(uuid, bytes) else uuid
    j = Joules(LIB)
    idx = j.ids.index("nvml:" + uuid)
    ref = CounterReference(h)
    ref.start()
    rt_offset = time.time_ns() - time.monotonic_ns()
    a = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    b = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    burst(2.0, a, b)  # warm up clocks and kernels
    time.sleep(1.0)
    rows = []
    plan = [(d, k) for d in (0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0) for k in range(3)] + [(10.0, 0)]
    for d, k in plan:
        time.sleep(0.6)
        r0 = j.read(idx)
        burst(d, a, b)
        r1 = j.read(idx)
        time.sleep(0.35)  # let the counter step past the end
        ej = (r1.energy_uj - r0.energy_uj) / 1e6
        unc = (r0.uncertainty_uj + r1.uncertainty_uj) / 1e6
        try:
            er = (ref.energy_mj_at(r1.time_ns) - ref.energy_mj_at(r0.time_ns)) / 1e3
        except ValueError:
            er = None
        es = samples_energy_j(h, r0.time_ns, r1.time_ns, rt_offset)
        secs = (r1.time_ns - r0.time_ns) / 1e9
        rows.append({"burst_s": d, "rep": k, "region_s": secs, "joules_j": ej, "joules_unc_j": unc,
                     "status": [r0.status, r1.status], "reference_j": er, "samples_j": es,
                     "err_vs_ref_pct": (ej - er) / er * 100 if er else None,
                     "samples_vs_ref_pct": (es - er) / er * 100 if er and es else None,
                     "ref_within_unc": abs(ej - er) <= unc if er else None})
    ref.stop = True
    ref.join()
    j.close()
    out["bursts"] = rows
    out["counter_call_ms_median"] = statistics.median(ref.call_ns) / 1e6
    summary = {}
    for d in sorted({r["burst_s"] for r in rows}):
        rs = [r for r in rows if r["burst_s"] == d and r["err_vs_ref_pct"] is not None]
        if rs:
            summary[str(d)] = {
                "n": len(rs),
                "joules_err_pct": [round(r["err_vs_ref_pct"], 2) for r in rs],
                "samples_err_pct": [round(r["samples_vs_ref_pct"], 2) if r["samples_vs_ref_pct"] is not None else None for r in rs],
                "ref_j": [round(r["reference_j"], 2) for r in rs],
                "unc_j": [round(r["joules_unc_j"], 2) for r in rs],
                "within_unc": [r["ref_within_unc"] for r in rs]}
    out["summary"] = summary
    with open(f"{OUT}/device_check.json", "w") as f:
        json.dump(out, f, indent=1)
    with open(f"{OUT}/device_check.txt", "w") as f:
        f.write(f"date {out['date']} driver {out['driver']} nvml {out['nvml']}\n")
        f.write(f"energy counter call (pynvml, in a polling thread): median {out['counter_call_ms_median']:.2f} ms\n")
        for c in cmp:
            f.write(f"gpu {c['index']} identical to pynvml: {c['identical']}\n")
        f.write("burst_s  joules err % vs counter ref (3 reps)  | 20 ms samples err %  | ref J | joules unc J | ref within unc\n")
        for d, s in summary.items():
            f.write(f"{d:>6}  {s['joules_err_pct']}  | {s['samples_err_pct']}  | {s['ref_j']} | {s['unc_j']} | {s['within_unc']}\n")
    print(open(f"{OUT}/device_check.txt").read())


main()
