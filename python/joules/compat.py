# SPDX-License-Identifier: MIT
"""A drop-in for the pynvml + s-tui power recipe: change only the imports.

    from joules.compat import PowerUsage, power_usage_api, power_usage_api2, \\
        Timer, get_sensor_values

The same names, arguments and return shapes as the recipe, measured the
joules way: means are energy counters divided by time (not averages of
0.1 s power samples, which miss short bursts and lag by NVML's 1 s
window); CPU energy is every CPU package read by libjoules (no TCP
listener); every GPU can be named, not GPU 0 only; a reading that fails
raises or warns with its reason.
"""
import functools
import os
import threading
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _abi
from ._lib import JoulesError
from ._measure import Measurement
from ._meter import Meter, default_meter

_meters: Dict[Tuple[int, float], Meter] = {}
_meters_lock = threading.Lock()


def _meter_for(delay: float) -> Meter:
    """A meter sampling every `delay` s (one per delay and process)."""
    key = (os.getpid(), delay)
    with _meters_lock:
        if key not in _meters:
            _meters[key] = Meter(interval=delay, trace=1024)
        return _meters[key]


class PowerUsage:
    """The recipe's PowerUsage: analyze_start() ... analyze_end().

    After analyze_end(), `measurement` holds the whole joules.Measurement
    (every sensor, uncertainty, reasons).
    """

    def __init__(self) -> None:
        self.measurement: Optional[Measurement] = None
        self._m: Optional[Measurement] = None
        self._gpu_sensor = -1
        self._delay = 0.1
        self._meter: Optional[Meter] = None
        self._gpu_points: Dict[int, float] = {}
        self._cpu_points: Dict[int, Dict[int, float]] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def analyze_start(self, gpu_id: int = 0, delay: float = 0.1) -> None:
        """Start measuring GPU `gpu_id` (NVML's index, as pynvml's
        nvmlDeviceGetHandleByIndex) and the CPU packages; power samples for
        analyze_end(mean=False) are taken every `delay` s.
        Raises JoulesError when there is no such GPU (with the reason)."""
        if delay <= 0:
            raise JoulesError("joules.compat: delay must be > 0 s", _abi.ERR_INVALID, "invalid")
        meter = _meter_for(delay)
        ctx = meter.context
        n = ctx.gpu_count()
        if not 0 <= gpu_id < n:
            why = ctx.gpu_error() or f"NVML lists {n} GPU(s)"
            raise JoulesError(f"joules.compat: no GPU {gpu_id}: {why}", _abi.ERR_NO_SENSOR,
                              "no such sensor")
        self._gpu_sensor = ctx.gpu(gpu_id).sensor
        if self._gpu_sensor < 0:
            raise JoulesError(f"joules.compat: GPU {gpu_id} has no energy sensor "
                              f"(see joules list)", _abi.ERR_NO_SENSOR, "no such sensor")
        self._delay, self._meter = delay, meter
        self._gpu_points, self._cpu_points = {}, {}
        self._stop.clear()
        self._m = Measurement("power_usage", meter=meter)
        self._m.__enter__()
        self._begin_ns = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        meter.sample()  # the first window starts here, not at the sampler's last tick
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _drain(self, until_ns: int) -> None:
        """Move the sampler's windows since the start into the sample lists
        (the sampler keeps 1024 windows; this runs far more often)."""
        ctx = self._meter.context
        buf = (_abi.TracePoint * 1024)()
        cpu = [s.index for s in ctx.sensors if s.total == "cpu"]
        for i in [self._gpu_sensor] + cpu:
            if i < 0:
                continue
            got = ctx.call("trace", i, self._begin_ns, buf, len(buf))
            for p in buf[:got]:
                if p.status != 0 or p.time_ns > until_ns:
                    continue
                if i == self._gpu_sensor:
                    self._gpu_points[p.sample] = p.power_w
                else:
                    self._cpu_points.setdefault(p.sample, {})[i] = p.power_w
        self._cpu_sensors = cpu

    def _collect(self) -> None:
        while not self._stop.wait(self._delay * 100):
            self._drain(time.clock_gettime_ns(time.CLOCK_MONOTONIC))

    def analyze_end(self, mean: bool = True) -> Tuple[float, Any, Any]:
        """(time_used s, GPU W, CPU W): the means over the whole span from
        energy counters; with mean=False the power of each `delay` window
        (lists of W, oldest first; the CPU's summed over packages). A value
        that could not be measured is None, with a warning saying why."""
        if self._m is None:
            raise JoulesError("joules.compat: analyze_end() without analyze_start()",
                              _abi.ERR_INVALID, "invalid")
        m, self._m = self._m, None
        if not mean:
            self._meter.sample()  # the last window ends here
        m.__exit__(None, None, None)
        self._stop.set()
        self._thread.join()
        self.measurement = m
        seconds = m.seconds
        gpu_id = self._meter.context.sensors[self._gpu_sensor].id
        gpu = m.sensors[gpu_id]
        if gpu.energy_j is None:
            warnings.warn(f"joules.compat: GPU energy not measured: {gpu.reason}", stacklevel=2)
        if m.cpu_j is None:
            warnings.warn(f"joules.compat: CPU energy not measured: {m.why('cpu')}",
                          stacklevel=2)
        if mean:
            gpu_w = gpu.energy_j / seconds if gpu.energy_j is not None and seconds else None
            cpu_w = m.cpu_j / seconds if m.cpu_j is not None and seconds else None
            return seconds, gpu_w, cpu_w
        self._drain(self._begin_ns + int((m.seconds + m.paused_s) * 1e9))
        gpu_list = [self._gpu_points[k] for k in sorted(self._gpu_points)]
        cpu_list = [sum(v.values()) for k, v in sorted(self._cpu_points.items())
                    if len(v) == len(self._cpu_sensors)]
        return seconds, gpu_list, cpu_list


def power_usage_api(func: Callable, note: str = "") -> Callable:
    """Wrap `func`: each call measures it and prints `note` and
    (time_used, GPU W, CPU W) as analyze_end() returns them."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        p = PowerUsage()
        p.analyze_start()
        try:
            return func(*args, **kwargs)
        finally:
            result = p.analyze_end()
            print(note, result)
    return wrapper


def power_usage_api2(note: str = "") -> Callable[[Callable], Callable]:
    """@power_usage_api2("note"): power_usage_api with a note."""
    def decorate(func: Callable) -> Callable:
        return power_usage_api(func, note)
    return decorate


class Timer:
    """The recipe's pausable timer: start(), pause(), resume(), elapsed() in
    s (time.perf_counter). Started when made, as the recipe's; verbose:
    elapsed() also prints "NAME elapsed: S s"."""

    def __init__(self, name: str = "", is_verbose: bool = False) -> None:
        self.name, self.is_verbose = name, is_verbose
        self.start()

    def start(self) -> None:
        self._accumulated = 0.0
        self._since: Optional[float] = time.perf_counter()

    def pause(self) -> None:
        if self._since is not None:
            self._accumulated += time.perf_counter() - self._since
            self._since = None

    def resume(self) -> None:
        if self._since is None:
            self._since = time.perf_counter()

    def elapsed(self) -> float:
        run = time.perf_counter() - self._since if self._since is not None else 0.0
        total = self._accumulated + run
        if self.is_verbose:
            print(f"{self.name} elapsed: {total:.6f} s")
        return total


def _mib(b: Optional[int]) -> str:
    return f"{b / 2**20:.0f} MiB" if b is not None else "n/a"


def get_sensor_values() -> List[str]:
    """The recipe's lines of GPU facts, for every NVIDIA GPU: the driver
    version, then per GPU its name, memory total / used / free (MiB) and
    free %, utilisation (%) and power (W, NVML's 1 s average) with its
    limit. One line saying why when there is no GPU."""
    ctx = default_meter().context
    n = ctx.gpu_count()
    if n == 0:
        return [f"No NVIDIA GPU: {ctx.gpu_error()}"]
    lines: List[str] = []
    for i in range(n):
        g = ctx.gpu(i)
        if i == 0:
            lines.append(f"Driver Version: {g.driver_version}")
        lines.append(f"GPU {i}: {g.name} ({g.uuid}, {g.pci_bus_id})")
        lines.append(f"GPU {i} Memory Total: {_mib(g.memory_total_bytes)}")
        lines.append(f"GPU {i} Memory Used: {_mib(g.memory_used_bytes)}")
        free_pct = (f"{100.0 * g.memory_free_bytes / g.memory_total_bytes:.1f}%"
                    if g.memory_total_bytes else "n/a")
        lines.append(f"GPU {i} Memory Free: {_mib(g.memory_free_bytes)} ({free_pct})")
        util = (f"{g.gpu_util_percent}% (memory {g.memory_util_percent}%)"
                if g.gpu_util_percent is not None else "n/a")
        lines.append(f"GPU {i} Utilization: {util}")
        power = f"{g.power_w:.1f} W" if g.power_w is not None else "n/a"
        limit = f" (limit {g.power_limit_w:.0f} W)" if g.power_limit_w is not None else ""
        lines.append(f"GPU {i} Power: {power}{limit}")
    return lines


__all__ = ["PowerUsage", "Timer", "get_sensor_values", "power_usage_api", "power_usage_api2"]
