# SPDX-License-Identifier: MIT
"""Meter: named windows over one context, and the default meter of a process."""
import ctypes
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _abi
from ._context import Context
from ._gpus import GpuSpec, resolve
from ._lib import JoulesError, strerror
from ._result import Result, TracePoint

if TYPE_CHECKING:
    from ._measure import Measurement

# How long the end of a region waits for late data (GPUs: ~20-60 ms), ms.
END_WAIT_MS = 1000


class _Window:
    """A running region of a Meter: its id in the context, what it covers."""

    def __init__(self, region: int, name: str, selected: Optional[List[int]],
                 sync: Optional[Callable[[], Any]]):
        self.region, self.name, self.selected, self.sync = region, name, selected, sync


class Meter:
    """Energy of named windows of code, which may nest and overlap.

        meter = joules.Meter()
        meter.begin("epoch")
        meter.begin("step")
        ...
        step = meter.end("step")      # a Measurement
        epoch = meter.end("epoch")

    interval: the sampler's period in s (peak power, the trace, and counter
    wraps during long regions; 0: no sampler thread, call sample()). While
    no window is open the sampler ticks once a second (its trace has 1 s
    windows there), and GPUs are not sampled (but 2 s after a window): a
    Meter with no window open costs no NVML call and ~0.01% of a core. A
    window's begin samples at once, so its trace starts with it.
    trace: sampler windows kept per sensor for Measurement.trace (0: none).
    baseline: measure idle power for this many seconds now, so results
    carry the energy above idle (sleeps; run nothing meanwhile).
    sysfs_root: instead of /sys (None: $JOULES_SYSFS_ROOT or /sys);
    sources: only these sources ("powercap,nvml"; None: all); policy:
    "auto", "direct" or "daemon" (joules_open_opts).
    Raises JoulesError with the library's message.
    """

    def __init__(self, *, interval: float = 0.1, trace: int = 600,
                 baseline: Optional[float] = None, sysfs_root: Optional[str] = None,
                 sources: Optional[str] = None, policy: str = "auto"):
        self.context = Context(sysfs_root, sources=sources, policy=policy)
        self._lock = threading.Lock()
        self._windows: Dict[str, Optional[_Window]] = {}
        self._gpu_sensors: Dict[tuple, List[int]] = {}
        self._trace_len = trace
        self._trace_buf = (_abi.TracePoint * 256)()
        if interval or trace:  # interval 0: traces from sample() calls only
            self.context.call("sampler_start", int(interval * 1e6) if interval else 0, trace)
        if baseline:
            self.measure_baseline(baseline)

    @property
    def sensors(self):
        """The context's sensors (list of SensorInfo), in sensor order."""
        return self.context.sensors

    def _selection(self, gpus: Optional[Iterable[GpuSpec]]) -> Optional[List[int]]:
        if gpus is None:
            return None
        # CUDA_VISIBLE_DEVICES may change between windows: part of the key.
        key = (tuple(gpus), os.environ.get("CUDA_VISIBLE_DEVICES"))
        if key not in self._gpu_sensors:
            chosen = {g.sensor for g in resolve(self.context, key[0])}
            self._gpu_sensors[key] = [s.index for s in self.context.sensors
                                      if s.kind != "gpu" or s.index in chosen]
        return self._gpu_sensors[key]

    def begin(self, name: str, *, sync: Optional[Callable[[], Any]] = None,
              gpus: Optional[Iterable[GpuSpec]] = None) -> None:
        """Begin window `name` now, after calling sync() (e.g.
        torch.cuda.synchronize, so queued GPU work lands before it).
        gpus: only these GPUs count (CUDA device indexes after
        CUDA_VISIBLE_DEVICES, or UUIDs / PCI bus ids); other sensors all do.
        Raises JoulesError if `name` is running already."""
        with self._lock:
            if name in self._windows:
                raise JoulesError(f"joules: window '{name}' is running already: end it, or "
                                  f"give this one another name", _abi.ERR_INVALID, "invalid")
            self._windows[name] = None  # taken while it begins
        try:
            w = self._begin(name, self._selection(gpus), sync)
        except BaseException:
            with self._lock:
                del self._windows[name]
            raise
        with self._lock:
            self._windows[name] = w

    def _begin(self, name: str, selected, sync) -> _Window:
        if sync:
            sync()
        region = ctypes.c_int(-1)
        self.context.call("region_begin", name.encode(), ctypes.byref(region))
        return _Window(region.value, name, selected, sync)

    def _take(self, name: str) -> _Window:
        with self._lock:
            w = self._windows.get(name)
        if w is None:  # not running, or still beginning in another thread
            raise JoulesError(f"joules: no window '{name}' is running (running: "
                              f"{', '.join(self._windows) or 'none'})", _abi.ERR_INVALID,
                              "invalid")
        return w

    def pause(self, name: str) -> None:
        """Leave out the energy and time from now until resume(name)."""
        w = self._take(name)
        if w.sync:
            w.sync()
        self.context.call("region_pause", w.region)

    def resume(self, name: str) -> None:
        """Count again from now on."""
        w = self._take(name)
        if w.sync:
            w.sync()
        self.context.call("region_resume", w.region)

    def end(self, name: str) -> "Measurement":
        """End window `name` (after its sync()), waiting for data that
        arrives late (GPUs: ~20-60 ms, at most ~1.1 s), and return it."""
        w = self._take(name)
        with self._lock:
            del self._windows[name]
        from ._measure import Measurement  # it builds on Meter
        m = Measurement(name, meter=self)
        m._result = self._end(w)
        return m

    def _end(self, w: _Window) -> Result:
        if w.sync:
            w.sync()
        ctx = self.context
        n = len(ctx.sensors)
        res = _abi.RegionResult()
        per = (_abi.RegionSensor * max(n, 1))()
        rc = ctx.call("region_end", w.region, END_WAIT_MS, ctypes.byref(res), per, n)
        while rc == 1:  # final at the latest 1.1 s after the end
            rc = ctx.call("region_finish", w.region, END_WAIT_MS, ctypes.byref(res), per, n)
        return self._result(res, per, w.selected)

    def _result(self, res, per, selected: Optional[List[int]]) -> Result:
        ctx = self.context
        n = len(ctx.sensors)
        totals = res.totals
        if selected is not None:
            mask = (ctypes.c_uint8 * max(n, 1))(*[1 if i in selected else 0 for i in range(n)])
            totals = (_abi.RegionTotal * _abi.TOTALS)()
            ctx.call("region_totals", mask, per, n, totals)
        indexes = range(n) if selected is None else selected
        adds = {}
        for i in indexes:
            if selected is None:
                adds[i] = ctx.sensors[i].total
            else:
                # -1: adds to no total (the same number as JOULES_ERR_INVALID,
                # which a valid mask and index cannot give).
                with ctx._lock:
                    k = ctx._lib.joules_total_of(ctx.handle, mask, i)
                adds[i] = _abi.TOTAL_NAMES[k] if k >= 0 else None
        return Result(ctx, res, per, totals, adds,
                      self._trace(res.begin_ns, res.end_ns, indexes), strerror)

    def _trace(self, after_ns: int, until_ns: int, indexes) -> List[TracePoint]:
        """Windows that end in (after_ns, until_ns], read now: the sampler
        keeps only the last `trace` of them."""
        out: List[TracePoint] = []
        if not self._trace_len:
            return out
        buf = self._trace_buf
        with self.context._lock:  # one buffer per meter
            for i in indexes:
                sid = self.context.sensors[i].id
                since = after_ns
                while True:
                    got = self.context.call("trace", i, since, buf, len(buf))
                    out += [((p.time_ns - after_ns) / 1e9, sid, p.power_w) for p in buf[:got]
                            if p.status == 0 and p.time_ns <= until_ns]
                    if got < len(buf) or buf[got - 1].time_ns >= until_ns:
                        break
                    since = buf[got - 1].time_ns
        out.sort(key=lambda p: p[0])
        return out

    def trace(self, since_s: float = 0.0) -> List[TracePoint]:
        """The sampler's windows of every sensor that ended in the last
        `since_s` seconds (0: all kept), as (time s before now, negative;
        sensor id, W), oldest first."""
        now = _monotonic_ns()
        after = max(0, now - int(since_s * 1e9)) if since_s else 0
        return [(t + (after - now) / 1e9, sid, w)
                for t, sid, w in self._trace(after, now, range(len(self.context.sensors)))]

    def sample(self) -> None:
        """Take one sample now, as the sampler thread does each interval."""
        self.context.call("sample")

    def measure_baseline(self, seconds: float) -> None:
        """Measure idle power over `seconds` (sleeping; run nothing else):
        windows ended afterwards carry above_idle_j."""
        self.context.call("baseline_measure", max(1, int(seconds * 1000)))

    def set_baseline(self, idle_w: Mapping[str, Union[float, Tuple[float, float]]]) -> None:
        """Idle power per sensor id: W, or (W, ± W). Sensors left out have
        no baseline (no above_idle_j). An empty mapping drops the baseline."""
        ctx = self.context
        if not idle_w:
            ctx.call("baseline_set", None, 0)
            return
        unknown = set(idle_w) - set(ctx.by_id)
        if unknown:
            raise JoulesError(f"joules: set_baseline: no sensor {', '.join(sorted(unknown))} "
                              f"(see joules list)", _abi.ERR_NO_SENSOR, "no such sensor")
        n = len(ctx.sensors)
        b = (_abi.Baseline * n)()
        for s in ctx.sensors:
            v = idle_w.get(s.id)
            if v is None:
                b[s.index].error = _abi.ERR_NO_SENSOR
                continue
            w, unc = v if isinstance(v, tuple) else (v, 0.0)
            b[s.index].power_w, b[s.index].uncertainty_w = float(w), float(unc)
        ctx.call("baseline_set", b, n)

    def measure(self, name: str = "", *, sync: Optional[Callable[[], Any]] = None,
                gpus: Optional[Iterable[GpuSpec]] = None,
                report: Optional[Callable[["Measurement"], Any]] = None
                ) -> "Measurement":
        """A Measurement on this meter: `with meter.measure("x") as m:` or a
        decorator."""
        from ._measure import Measurement
        return Measurement(name, sync=sync, gpus=gpus, report=report, meter=self)

    def close(self) -> None:
        """Stop the sampler and close the context."""
        self.context.close()


def _monotonic_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


_default_lock = threading.Lock()
_default: Optional[Meter] = None


def default_meter() -> Meter:
    """The meter that joules.measure() uses: one per process, opened on
    first use (and again in a fork() child, whose inherited one the library
    refuses)."""
    global _default
    with _default_lock:
        if _default is None or _default.context.pid != os.getpid():
            _default = Meter()
        return _default
