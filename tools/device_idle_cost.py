#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""CPU time of a process that opens a joules context and sleeps.

Usage: device_idle_cost.py LIBJOULES_SO SECONDS
Prints the wall time of joules_open, and the process's user and system CPU
time per wall second while the context is open and nothing is measured.
"""
import ctypes
import resource
import sys
import time

lib = ctypes.CDLL(sys.argv[1])
secs = float(sys.argv[2])
lib.joules_open.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p]
ctx = ctypes.c_void_p()
t = time.monotonic()
assert lib.joules_open(ctypes.byref(ctx), None) == 0
print(f"joules_open: {(time.monotonic() - t) * 1e3:.1f} ms")
r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
time.sleep(secs)
r1, w1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
wall = w1 - w0
print(f"idle open context over {wall:.1f} s: user {(r1.ru_utime - r0.ru_utime) / wall * 100:.3f}% "
      f"system {(r1.ru_stime - r0.ru_stime) / wall * 100:.3f}% of one core")
