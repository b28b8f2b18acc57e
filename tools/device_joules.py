# SPDX-License-Identifier: MIT
"""libjoules through ctypes for the GPU machine's scripts (tools/device_*.py):
the public API only, the records as include/joules.h lays them out."""
import ctypes
import time


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
        lib.joules_settle.argtypes = [ctypes.c_void_p, ctypes.POINTER(Reading), ctypes.c_size_t]
        lib.joules_close.argtypes = [ctypes.c_void_p]
        self.ctx = ctypes.c_void_p()
        rc = lib.joules_open(ctypes.byref(self.ctx), None)
        assert rc == 0, rc
        self.n = lib.joules_sensor_count(self.ctx)
        self.buf = (Reading * max(self.n, 1))()
        # struct joules_sensor starts with char id[64], name[64], source[16].
        self.ids = [ctypes.string_at(lib.joules_sensor(self.ctx, i)).decode() for i in range(self.n)]

    def read(self):
        snap = (Reading * max(self.n, 1))()
        self.lib.joules_read(self.ctx, snap, self.n)
        return snap

    def settle(self, snap):
        """Until no reading is provisional; the call itself never blocks."""
        for _ in range(500):
            if self.lib.joules_settle(self.ctx, snap, self.n) == 0:
                return
            time.sleep(0.005)

    def close(self):
        self.lib.joules_close(self.ctx)
