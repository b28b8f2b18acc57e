# SPDX-License-Identifier: MIT
"""The C records of include/joules.h, mirrored field for field in ctypes.

Their sizes are fixed by the header (static asserts in lib/region.c) and
checked against the compiler's by tests/python/test_abi_layout.py, so a
layout drift fails the build's tests instead of corrupting memory.
"""
import ctypes
from ctypes import c_char, c_double, c_int32, c_int64, c_uint32, c_uint64

ID_LEN = 64
NAME_LEN = 64
SOURCE_LEN = 16
DEVICE_LEN = 64
REASON_LEN = 512
TOTALS = 4

# enum joules_error
ERR_INVALID = -1
ERR_PERMISSION = -4
ERR_NO_SENSOR = -10
ERR_FORKED = -11

# enum joules_total, in the order of joules_region_result.totals
TOTAL_NAMES = ("cpu", "dram", "gpu", "platform")

# enum joules_region_state
REGION_STATES = ("ok", "gap", "partial", "reset", "unreadable")

# flags
SENSOR_READABLE = 0x1
SENSOR_INTEGRATED = 0x2
SENSOR_VIA_DAEMON = 0x4
REGION_HAS_ENERGY = 0x1
REGION_PROVISIONAL = 0x2
REGION_HAS_IDLE = 0x4
REGION_PEAK_SAMPLED = 0x8
REGION_WRAPPED = 0x10
GPU_HAS_MEMORY = 0x1
GPU_HAS_UTILIZATION = 0x2
GPU_HAS_POWER = 0x4
GPU_HAS_POWER_LIMIT = 0x8


class Sensor(ctypes.Structure):
    """struct joules_sensor (read through a pointer only: it may grow)."""
    _fields_ = [
        ("id", c_char * ID_LEN),
        ("name", c_char * NAME_LEN),
        ("source", c_char * SOURCE_LEN),
        ("device", c_char * DEVICE_LEN),
        ("reason", c_char * REASON_LEN),
        ("kind", c_int32),
        ("parent", c_int32),
        ("flags", c_uint32),
        ("resolution_uj", c_uint32),
        ("range_uj", c_uint64),
        ("max_power_uw", c_uint64),
        ("wrap_period_ns", c_uint64),
        ("refresh_us", c_uint32),
        ("reserved", c_uint32),
        ("also", c_char * (SOURCE_LEN * 2)),
    ]


class OpenOpts(ctypes.Structure):
    """struct joules_open_opts (size set by the caller; fields only appended)."""
    _fields_ = [
        ("size", ctypes.c_size_t),
        ("sysfs_root", ctypes.c_char_p),
        ("nvml_library", ctypes.c_char_p),
        ("sources", ctypes.c_char_p),
        ("policy", c_int32),
        ("reserved", c_int32),
        ("error", ctypes.c_void_p),
        ("error_len", ctypes.c_size_t),
    ]


# enum joules_source_policy
POLICIES = {"auto": 0, "direct": 1, "daemon": 2}


class Reading(ctypes.Structure):
    """struct joules_reading (32 bytes)."""
    _fields_ = [
        ("energy_uj", c_uint64),
        ("time_ns", c_uint64),
        ("uncertainty_uj", c_uint32),
        ("resets", c_uint32),
        ("status", c_int32),
        ("flags", c_uint32),
    ]


class GpuInfo(ctypes.Structure):
    """struct joules_gpu_info (the caller sets size; it may grow)."""
    _fields_ = [
        ("size", c_uint32),
        ("valid", c_uint32),
        ("index", c_uint32),
        ("sensor", c_int32),
        ("name", c_char * 96),
        ("uuid", c_char * 96),
        ("pci_bus_id", c_char * 32),
        ("driver_version", c_char * 80),
        ("nvml_version", c_char * 80),
        ("memory_total_bytes", c_uint64),
        ("memory_used_bytes", c_uint64),
        ("memory_free_bytes", c_uint64),
        ("energy_mj", c_uint64),
        ("gpu_util_percent", c_uint32),
        ("memory_util_percent", c_uint32),
        ("power_mw", c_uint32),
        ("power_instant_mw", c_uint32),
        ("power_limit_mw", c_uint32),
        ("reserved", c_uint32),
    ]


class RegionSensor(ctypes.Structure):
    """struct joules_region_sensor (608 bytes)."""
    _fields_ = [
        ("energy_uj", c_uint64),
        ("uncertainty_uj", c_uint64),
        ("covered_ns", c_uint64),
        ("mean_w", c_double),
        ("peak_w", c_double),
        ("idle_w", c_double),
        ("idle_uncertainty_w", c_double),
        ("above_idle_uj", c_int64),
        ("above_idle_uncertainty_uj", c_uint64),
        ("refresh_us", c_uint32),
        ("wraps", c_uint32),
        ("state", c_int32),
        ("error", c_int32),
        ("flags", c_uint32),
        ("reserved", c_uint32),
        ("reason", c_char * REASON_LEN),
    ]


class RegionTotal(ctypes.Structure):
    """struct joules_region_total (560 bytes)."""
    _fields_ = [
        ("energy_uj", c_uint64),
        ("uncertainty_uj", c_uint64),
        ("above_idle_uj", c_int64),
        ("above_idle_uncertainty_uj", c_uint64),
        ("sensors", c_uint32),
        ("flags", c_uint32),
        ("error", c_int32),
        ("missing", c_int32),
        ("reason", c_char * REASON_LEN),
    ]


class RegionResult(ctypes.Structure):
    """struct joules_region_result (2344 bytes)."""
    _fields_ = [
        ("name", c_char * NAME_LEN),
        ("begin_ns", c_uint64),
        ("end_ns", c_uint64),
        ("duration_ns", c_uint64),
        ("paused_ns", c_uint64),
        ("flags", c_uint32),
        ("n_sensors", c_uint32),
        ("totals", RegionTotal * TOTALS),
    ]


class TracePoint(ctypes.Structure):
    """struct joules_trace_point (48 bytes)."""
    _fields_ = [
        ("sample", c_uint64),
        ("time_ns", c_uint64),
        ("window_ns", c_uint64),
        ("energy_uj", c_uint64),
        ("power_w", c_double),
        ("status", c_int32),
        ("flags", c_uint32),
    ]


class Baseline(ctypes.Structure):
    """struct joules_baseline (32 bytes)."""
    _fields_ = [
        ("power_w", c_double),
        ("uncertainty_w", c_double),
        ("duration_ns", c_uint64),
        ("error", c_int32),
        ("reserved", c_uint32),
    ]


# The records whose layout the tests compare with the C compiler's:
# C name -> ctypes class.
RECORDS = {
    "joules_sensor": Sensor,
    "joules_open_opts": OpenOpts,
    "joules_reading": Reading,
    "joules_gpu_info": GpuInfo,
    "joules_region_sensor": RegionSensor,
    "joules_region_total": RegionTotal,
    "joules_region_result": RegionResult,
    "joules_trace_point": TracePoint,
    "joules_baseline": Baseline,
}


def text(raw: bytes) -> str:
    """A C char array's contents as text (UTF-8; a cut character replaced)."""
    return raw.decode("utf-8", "replace")
