# SPDX-License-Identifier: MIT
"""libjoules through ctypes, driven line by line: a real client process for
the daemon tests, run as any user (setpriv). Reads commands on stdin, one
JSON reply per line on stdout:
  open [policy]        -> {"ok", "n", "ids", "via", "error"}   policy: auto|direct|daemon
  read                 -> {"readings": [[energy, time, unc, resets, status, flags], ...],
                           "errors": [...]}
  settle               -> settles the last read until final (bounded); its readings
  keep NAME            -> keeps the last (settled) readings under NAME
  delta A B            -> [[status, uj], ...] of joules_delta per sensor
  hammer THREADS N     -> THREADS contexts opened at once, N reads each on its own
                          thread: {"opened", "reads", "errors", "first_error"}
  quit
Environment: JOULES_LIB, the built libjoules.so.
"""
import ctypes
import json
import os
import sys
import threading
import time


class Reading(ctypes.Structure):
    _fields_ = [("energy_uj", ctypes.c_uint64), ("time_ns", ctypes.c_uint64),
                ("uncertainty_uj", ctypes.c_uint32), ("resets", ctypes.c_uint32),
                ("status", ctypes.c_int32), ("flags", ctypes.c_uint32)]


class Opts(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("sysfs_root", ctypes.c_char_p),
                ("nvml_library", ctypes.c_char_p), ("sources", ctypes.c_char_p),
                ("policy", ctypes.c_int32), ("reserved", ctypes.c_int32),
                ("error", ctypes.c_char_p), ("error_len", ctypes.c_size_t)]


POLICIES = {"auto": 0, "direct": 1, "daemon": 2}
VIA_DAEMON = 0x4
SENSOR_FLAGS_OFFSET = 64 + 64 + 16 + 64 + 512 + 4 + 4

lib = ctypes.CDLL(os.environ["JOULES_LIB"])
lib.joules_open_with.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(Opts)]
lib.joules_sensor_count.argtypes = [ctypes.c_void_p]
lib.joules_sensor_count.restype = ctypes.c_size_t
lib.joules_sensor.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
lib.joules_sensor.restype = ctypes.c_void_p
lib.joules_read.argtypes = [ctypes.c_void_p, ctypes.POINTER(Reading), ctypes.c_size_t]
lib.joules_settle.argtypes = [ctypes.c_void_p, ctypes.POINTER(Reading), ctypes.c_size_t]
lib.joules_delta.argtypes = [ctypes.POINTER(Reading), ctypes.POINTER(Reading),
                             ctypes.POINTER(ctypes.c_uint64)]
lib.joules_sensor_error.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
lib.joules_sensor_error.restype = ctypes.c_char_p
lib.joules_close.argtypes = [ctypes.c_void_p]


def open_ctx(policy="auto"):
    ctx = ctypes.c_void_p()
    err = ctypes.create_string_buffer(512)
    o = Opts(size=ctypes.sizeof(Opts), policy=POLICIES[policy],
             error=ctypes.cast(err, ctypes.c_char_p), error_len=512)
    r = lib.joules_open_with(ctypes.byref(ctx), ctypes.byref(o))
    return r, ctx, err.value.decode()


def as_list(buf):
    return [[r.energy_uj, r.time_ns, r.uncertainty_uj, r.resets, r.status, r.flags] for r in buf]


def hammer(threads, reads):
    out = {"opened": 0, "reads": 0, "errors": 0, "first_error": ""}
    lock = threading.Lock()
    ready = threading.Barrier(threads)

    def one():
        ready.wait()
        r, ctx, err = open_ctx("daemon")
        with lock:
            if r < 0:
                out["errors"] += 1
                out["first_error"] = out["first_error"] or err
                return
            out["opened"] += 1
        n = lib.joules_sensor_count(ctx)
        buf = (Reading * n)()
        errors = done = 0
        first = ""
        for _ in range(reads):
            lib.joules_read(ctx, buf, n)
            done += 1
            for i, rd in enumerate(buf):
                if rd.status:
                    errors += 1
                    first = first or lib.joules_sensor_error(ctx, i).decode()
        lib.joules_close(ctx)
        with lock:
            out["reads"] += done
            out["errors"] += errors
            out["first_error"] = out["first_error"] or first

    ts = [threading.Thread(target=one) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def main():
    ctx = None
    n = 0
    last = None
    kept = {}
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd, args = words[0], words[1:]
        if cmd == "open":
            r, ctx, err = open_ctx(args[0] if args else "auto")
            if r < 0:
                print(json.dumps({"ok": False, "status": r, "error": err}), flush=True)
                continue
            n = lib.joules_sensor_count(ctx)
            ids, via = [], []
            for i in range(n):
                p = lib.joules_sensor(ctx, i)
                ids.append(ctypes.string_at(p).decode())
                flags = ctypes.c_uint32.from_address(p + SENSOR_FLAGS_OFFSET).value
                via.append("daemon" if flags & VIA_DAEMON else "direct")
            print(json.dumps({"ok": True, "n": n, "ids": ids, "via": via}), flush=True)
        elif cmd == "read":
            last = (Reading * n)()
            lib.joules_read(ctx, last, n)
            errors = [lib.joules_sensor_error(ctx, i).decode() if last[i].status else ""
                      for i in range(n)]
            print(json.dumps({"readings": as_list(last), "errors": errors}), flush=True)
        elif cmd == "settle":
            for _ in range(2000):  # bounded: settle finishes within about a second
                if lib.joules_settle(ctx, last, n) <= 0:
                    break
                time.sleep(0.005)
            print(json.dumps({"readings": as_list(last)}), flush=True)
        elif cmd == "keep":
            kept[args[0]] = last
            print(json.dumps({"ok": True}), flush=True)
        elif cmd == "delta":
            a, b = kept[args[0]], kept[args[1]]
            res = []
            for i in range(n):
                uj = ctypes.c_uint64()
                st = lib.joules_delta(ctypes.byref(a[i]), ctypes.byref(b[i]), ctypes.byref(uj))
                res.append([st, uj.value])
            print(json.dumps(res), flush=True)
        elif cmd == "hammer":
            print(json.dumps(hammer(int(args[0]), int(args[1]))), flush=True)
        elif cmd == "quit":
            break
    if ctx:
        lib.joules_close(ctx)


if __name__ == "__main__":
    main()
