# SPDX-License-Identifier: MIT
"""One libjoules context, its sensors and GPUs, behind a lock.

A context is not thread-safe in C; every call here takes the object's lock,
so one Context may be shared by the threads of a process. It belongs to the
process that opened it: in a fork() child the library refuses it, and
`joules.default_meter()` opens a new one there.
"""
import ctypes
import os
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional

from . import _abi
from ._lib import JoulesError, fail, lib


@dataclass(frozen=True)
class SensorInfo:
    """What a sensor is (struct joules_sensor).

    index: its position in the context; id: stable, e.g. "rapl:package-0";
    kind: "cpu-package", "dram", "gpu"...; total: the total it adds to
    ("cpu", "dram", "gpu", "platform") or None when it is inside another
    sensor of the same total (a core in its package) or of no kind;
    readable: readings succeed for this user, else `reason` says why and
    how to fix it; integrated: energy integrated from power samples;
    refresh_us: how often the hardware updates the counter (0: unknown);
    via: "daemon" when read through joulesd's shared page
    (JOULES_SENSOR_VIA_DAEMON; `source` names the daemon's source), else
    "direct".
    """
    index: int
    id: str
    name: str
    kind: str
    source: str
    device: str
    parent: int
    readable: bool
    integrated: bool
    refresh_us: int
    reason: str
    total: Optional[str]
    via: str


@dataclass(frozen=True)
class GpuInfo:
    """A GPU's identity and state when read (struct joules_gpu_info, NVML).

    index: NVML's index (PCI bus order); sensor: index of its energy sensor
    or -1; memory in bytes; utilisation in percent; power in W (NVML's 1 s
    average on Ampere and newer), power_limit_w the enforced limit. A field
    the GPU does not offer is None.
    """
    index: int
    sensor: int
    name: str
    uuid: str
    pci_bus_id: str
    driver_version: str
    nvml_version: str
    memory_total_bytes: Optional[int]
    memory_used_bytes: Optional[int]
    memory_free_bytes: Optional[int]
    gpu_util_percent: Optional[int]
    memory_util_percent: Optional[int]
    power_w: Optional[float]
    power_limit_w: Optional[float]


class Context:
    """An open libjoules context (joules_open_with): every sensor of the machine.

    sysfs_root replaces "/sys" (None: $JOULES_SYSFS_ROOT, else "/sys");
    nvml_library is the NVML to load (None: $JOULES_NVML_LIBRARY, else
    libnvidia-ml.so.1); sources limits the sources ("powercap,nvml"; None:
    all); policy is "auto", "direct" or "daemon". Raises JoulesError with
    the library's message when opening fails.
    """

    def __init__(self, sysfs_root: Optional[str] = None, *, nvml_library: Optional[str] = None,
                 sources: Optional[str] = None, policy: str = "auto"):
        self._lib = lib()
        self._lock = threading.RLock()
        self.pid = os.getpid()
        if policy not in _abi.POLICIES:
            raise JoulesError(f"joules: policy must be one of {', '.join(_abi.POLICIES)}, "
                              f"not {policy!r}", _abi.ERR_INVALID, "invalid argument")
        opts = _abi.OpenOpts()
        opts.size = ctypes.sizeof(opts)
        opts.sysfs_root = sysfs_root.encode() if sysfs_root is not None else None
        opts.nvml_library = nvml_library.encode() if nvml_library is not None else None
        opts.sources = sources.encode() if sources is not None else None
        opts.policy = _abi.POLICIES[policy]
        error = ctypes.create_string_buffer(_abi.REASON_LEN * 2)
        opts.error = ctypes.cast(error, ctypes.c_void_p)
        opts.error_len = len(error)
        handle = ctypes.c_void_p()
        self._h = None
        rc = self._lib.joules_open_with(ctypes.byref(handle), ctypes.byref(opts))
        if rc < 0:
            raise fail(rc, error.value.decode("utf-8", "replace"))
        self._h = handle
        n = self._lib.joules_sensor_count(handle)
        self.sensors: List[SensorInfo] = [self._sensor(i) for i in range(n)]
        self.by_id: Dict[str, SensorInfo] = {s.id: s for s in self.sensors}

    def _sensor(self, i: int) -> SensorInfo:
        s = self._lib.joules_sensor(self._h, i).contents
        total = self._lib.joules_total_of(self._h, None, i)
        return SensorInfo(
            index=i, id=_abi.text(s.id), name=_abi.text(s.name),
            kind=self._lib.joules_kind_name(s.kind).decode(),
            source=_abi.text(s.source), device=_abi.text(s.device), parent=s.parent,
            readable=bool(s.flags & _abi.SENSOR_READABLE),
            integrated=bool(s.flags & _abi.SENSOR_INTEGRATED),
            refresh_us=s.refresh_us, reason=_abi.text(s.reason),
            total=_abi.TOTAL_NAMES[total] if 0 <= total < _abi.TOTALS else None,
            via="daemon" if s.flags & _abi.SENSOR_VIA_DAEMON else "direct")

    @property
    def handle(self) -> ctypes.c_void_p:
        if self._h is None:
            raise JoulesError("joules: this context is closed", _abi.ERR_INVALID, "invalid")
        return self._h

    def call(self, name: str, *args) -> int:
        """Call joules_NAME(ctx, *args) under the lock; a negative return
        raises JoulesError with joules_last_error()."""
        with self._lock:
            rc = getattr(self._lib, "joules_" + name)(self.handle, *args)
            if rc is not None and rc < 0:
                raise fail(rc, self._lib.joules_last_error(self._h).decode())
            return rc

    def last_error(self) -> str:
        with self._lock:
            return self._lib.joules_last_error(self.handle).decode()

    def sources(self) -> List[Dict[str, str]]:
        """The sources tried: [{"name": "powercap", "note": why none found}]."""
        with self._lock:
            h, L = self.handle, self._lib
            return [{"name": L.joules_source_name(h, i).decode(),
                     "note": L.joules_source_note(h, i).decode()}
                    for i in range(L.joules_source_count(h))]

    def gpu_count(self) -> int:
        """NVIDIA GPUs found; 0 without a driver (gpu_error() says why)."""
        with self._lock:
            n = self._lib.joules_gpu_count(self.handle)
        if n < 0:
            raise fail(n, self.gpu_error())
        return n

    def gpu_error(self) -> str:
        with self._lock:
            return self._lib.joules_gpu_error(self.handle).decode()

    def gpu(self, index: int) -> GpuInfo:
        """GPU `index` now (calls NVML: milliseconds; keep it off regions)."""
        info = _abi.GpuInfo()
        info.size = ctypes.sizeof(info)
        with self._lock:
            rc = self._lib.joules_gpu_info(self.handle, index, ctypes.byref(info))
            if rc < 0 and not info.uuid:
                raise fail(rc, self._lib.joules_last_error(self._h).decode())
        v = info.valid

        def opt(flag, value):
            return value if v & flag else None
        return GpuInfo(
            index=info.index, sensor=info.sensor, name=_abi.text(info.name),
            uuid=_abi.text(info.uuid), pci_bus_id=_abi.text(info.pci_bus_id),
            driver_version=_abi.text(info.driver_version),
            nvml_version=_abi.text(info.nvml_version),
            memory_total_bytes=opt(_abi.GPU_HAS_MEMORY, info.memory_total_bytes),
            memory_used_bytes=opt(_abi.GPU_HAS_MEMORY, info.memory_used_bytes),
            memory_free_bytes=opt(_abi.GPU_HAS_MEMORY, info.memory_free_bytes),
            gpu_util_percent=opt(_abi.GPU_HAS_UTILIZATION, info.gpu_util_percent),
            memory_util_percent=opt(_abi.GPU_HAS_UTILIZATION, info.memory_util_percent),
            power_w=opt(_abi.GPU_HAS_POWER, info.power_mw / 1000.0),
            power_limit_w=opt(_abi.GPU_HAS_POWER_LIMIT, info.power_limit_mw / 1000.0))

    def close(self) -> None:
        """Close the context (stops its sampler). Safe to call twice."""
        with self._lock:
            if self._h is not None:
                self._lib.joules_close(self._h)
                self._h = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
