#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Diagnosis of GPU energy on short regions (docs/validation.md, 2026-11-25).

Usage: nvml_diag.py LIBJOULES_SO NVML_TRACE OUT_DIR

A square-wave load (bf16 matmul bursts of 0.05-2 s, each bracketed by
torch.cuda.synchronize(), 1.2 s idle between) in three phases: the energy
counter polled by nvml_trace in another process, not at all, and in a thread
of this process (pynvml). Throughout: field 186 every 2 ms and the driver's
power samples (nvml_trace, own processes), joules_read() every 5 ms and at
every burst edge. Raw CSVs into OUT_DIR; the analysis is done elsewhere.
"""
import ctypes, subprocess, sys, threading, time
import pynvml, torch

LIB, TRACE, OUT = sys.argv[1:4]


class Reading(ctypes.Structure):
    _fields_ = [("energy_uj", ctypes.c_uint64), ("time_ns", ctypes.c_uint64),
                ("uncertainty_uj", ctypes.c_uint32), ("resets", ctypes.c_uint32),
                ("status", ctypes.c_int32), ("flags", ctypes.c_uint32)]


lib = ctypes.CDLL(LIB)
lib.joules_open.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p]
lib.joules_sensor_count.argtypes = [ctypes.c_void_p]
lib.joules_sensor_count.restype = ctypes.c_size_t
lib.joules_sensor.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
lib.joules_sensor.restype = ctypes.c_void_p
lib.joules_read.argtypes = [ctypes.c_void_p, ctypes.POINTER(Reading), ctypes.c_size_t]
ctx = ctypes.c_void_p()
assert lib.joules_open(ctypes.byref(ctx), None) == 0
n = lib.joules_sensor_count(ctx)
ids = [ctypes.string_at(lib.joules_sensor(ctx, i)).decode() for i in range(n)]
gi = [i for i, s in enumerate(ids) if s.startswith("nvml:")][0]
buf = (Reading * n)()
jlock = threading.Lock()


def jread():
    with jlock:
        lib.joules_read(ctx, buf, n)
        r = buf[gi]
        return (r.time_ns, r.energy_uj, r.uncertainty_uj, r.status)


stop = False
jrows = []


def jtrace():
    while not stop:
        jrows.append(jread())
        time.sleep(0.005)


pynvml.nvmlInit()
h = pynvml.nvmlDeviceGetHandleByIndex(0)
crows = []
cstop = [False]


def cthread():
    while not cstop[0]:
        a = time.monotonic_ns()
        v = pynvml.nvmlDeviceGetTotalEnergyConsumption(h)
        b = time.monotonic_ns()
        crows.append((a, b, v))
        time.sleep(0.001)


procs = [subprocess.Popen([TRACE, "field", f"{OUT}/field.csv", "2000"]),
         subprocess.Popen([TRACE, "samples", f"{OUT}/samples.csv", "1000000"])]
threading.Thread(target=jtrace, daemon=True).start()
a = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
b = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")


def burst(d):
    torch.cuda.synchronize()
    t0 = time.monotonic_ns()
    r0 = jread()
    k = 0
    while time.monotonic_ns() - t0 < d * 1e9:
        torch.matmul(a, b)
        torch.cuda.synchronize()
        k += 1
    t1 = time.monotonic_ns()
    r1 = jread()
    return t0, t1, k, r0, r1


brows = []
for phase in ("sep", "none", "thread"):
    cp = None
    if phase == "sep":
        cp = subprocess.Popen([TRACE, "counter", f"{OUT}/counter.csv", "1000"])
    if phase == "thread":
        cstop[0] = False
        ct = threading.Thread(target=cthread, daemon=True)
        ct.start()
    time.sleep(0.5)
    burst(2.0)
    time.sleep(1.5)
    for d in (0.05, 0.1, 0.2, 0.5, 1.0, 2.0):
        for rep in range(3):
            t0, t1, k, r0, r1 = burst(d)
            brows.append((phase, d, rep, t0, t1, k) + r0 + r1)
            time.sleep(1.2)
    if cp:
        cp.terminate(); cp.wait()
    if phase == "thread":
        cstop[0] = True
        ct.join()
    print("phase", phase, "done", flush=True)
stop = True
time.sleep(0.05)
for p in procs:
    p.terminate(); p.wait()
with open(f"{OUT}/bursts.csv", "w") as f:
    f.write("phase,burst_s,rep,t0_ns,t1_ns,kernels,r0_t,r0_uj,r0_unc,r0_st,r1_t,r1_uj,r1_unc,r1_st\n")
    for r in brows:
        f.write(",".join(map(str, r)) + "\n")
with open(f"{OUT}/joules.csv", "w") as f:
    f.write("time_ns,energy_uj,unc_uj,status\n")
    for r in jrows:
        f.write(",".join(map(str, r)) + "\n")
with open(f"{OUT}/counter_thread.csv", "w") as f:
    f.write("mono_a_ns,mono_b_ns,energy_mj\n")
    for r in crows:
        f.write(",".join(map(str, r)) + "\n")
print("rows", len(brows), len(jrows), len(crows))
