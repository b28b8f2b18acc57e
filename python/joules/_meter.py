# SPDX-License-Identifier: MIT
"""Meter: named windows over one context; Measurement: `with` and decorator."""
import ctypes
import functools
import os
import sys
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _abi
from ._context import Context
from ._gpus import GpuSpec, resolve
from ._lib import JoulesError, strerror
from ._result import Result, SensorResult, TotalResult, TracePoint, summary, to_dict

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
    wraps during long regions; 0: no sampler thread, call sample()).
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
                report: Optional[Callable[["Measurement"], Any]] = None) -> "Measurement":
        """A Measurement on this meter: `with meter.measure("x") as m:` or a
        decorator."""
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


class Measurement:
    """The energy of a block or of each call of a function.

        with joules.measure("train") as m:
            train()
        print(m)                    # train: 2.503 s; cpu 120.500 J ±0.02, 48.1 W; ...
        m.gpu_j, m.energy_j["nvml:gpu-0"], m.to_dict()

        @joules.measure("step")     # or @joules.measure()
        def step(): ...             # each call prints its summary (report=)

    Until it has ended, the figures are None (empty dicts). Energies in J,
    powers in W, times in s. A total that was not measured is None and
    `why(total)` says why. Raises JoulesError with the library's message.
    """

    def __init__(self, name: str = "", *, sync: Optional[Callable[[], Any]] = None,
                 gpus: Optional[Iterable[GpuSpec]] = None,
                 report: Optional[Callable[["Measurement"], Any]] = None,
                 meter: Optional[Meter] = None):
        self.name = name
        self._sync, self._report, self._meter = sync, report, meter
        self._gpus = None if gpus is None else list(gpus)
        self._result: Optional[Result] = None
        self._running: List[_Window] = []

    # --- as a context manager ---
    def __enter__(self) -> "Measurement":
        meter = self._meter or default_meter()
        self._meter = meter
        self._running.append(meter._begin(self.name, meter._selection(self._gpus), self._sync))
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        w = self._running.pop()
        try:
            self._result = self._meter._end(w)
        except JoulesError:
            if exc_type is None:
                raise
            return  # the block's own exception is the one to see
        if self._report:
            self._report(self)

    def pause(self) -> None:
        """Leave out energy and time until resume() (inside the `with`)."""
        w = self._running[-1]
        if w.sync:
            w.sync()
        self._meter.context.call("region_pause", w.region)

    def resume(self) -> None:
        w = self._running[-1]
        if w.sync:
            w.sync()
        self._meter.context.call("region_resume", w.region)

    # --- as a decorator ---
    def __call__(self, func: Callable) -> Callable:
        name = self.name or getattr(func, "__qualname__", "")
        outer = self

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            m = Measurement(name, sync=outer._sync, gpus=outer._gpus, meter=outer._meter,
                            report=outer._report or _print_report)
            with m:
                value = func(*args, **kwargs)
            outer._result = m._result
            return value
        wrapper.measurement = self  # type: ignore[attr-defined]
        return wrapper

    # --- the figures ---
    def _get(self, f: Callable[[Result], Any], empty: Any = None) -> Any:
        return f(self._result) if self._result is not None else empty

    @property
    def seconds(self) -> Optional[float]:
        """Active time (paused time left out), s."""
        return self._get(lambda r: r.seconds)

    @property
    def paused_s(self) -> Optional[float]:
        return self._get(lambda r: r.paused_s)

    @property
    def sensors(self) -> Dict[str, SensorResult]:
        """Per sensor id: SensorResult (state, energy, uncertainty, reason)."""
        return self._get(lambda r: r.sensors, {})

    @property
    def totals(self) -> Dict[str, TotalResult]:
        """"cpu", "dram", "gpu", "platform": TotalResult."""
        return self._get(lambda r: r.totals, {})

    def _per_sensor(self, attr: str) -> Dict[str, float]:
        return {k: getattr(s, attr) for k, s in self.sensors.items()
                if getattr(s, attr) is not None}

    @property
    def energy_j(self) -> Dict[str, float]:
        """Energy per sensor id, J (sensors whose energy is known)."""
        return self._per_sensor("energy_j")

    @property
    def uncertainty_j(self) -> Dict[str, float]:
        """Bound on each energy's error per sensor id, J."""
        return self._per_sensor("uncertainty_j")

    @property
    def mean_w(self) -> Dict[str, float]:
        """Mean power per sensor id over the time its energy covers, W."""
        return self._per_sensor("mean_w")

    @property
    def peak_w(self) -> Dict[str, float]:
        """Peak power per sensor id, W: the highest sampler window inside the
        region (SensorResult.peak_sampled), else the mean."""
        return self._per_sensor("peak_w")

    @property
    def above_idle_j(self) -> Dict[str, float]:
        """Energy above the idle baseline per sensor id, J (with a baseline)."""
        return self._per_sensor("above_idle_j")

    def _total(self, name: str) -> Optional[float]:
        t = self.totals.get(name)
        return t.energy_j if t else None

    @property
    def cpu_j(self) -> Optional[float]:
        """CPU packages (cores and uncore are inside them), J."""
        return self._total("cpu")

    @property
    def gpu_j(self) -> Optional[float]:
        """Every measured GPU, J."""
        return self._total("gpu")

    @property
    def dram_j(self) -> Optional[float]:
        return self._total("dram")

    @property
    def platform_j(self) -> Optional[float]:
        """psys: the whole platform, packages included, J."""
        return self._total("platform")

    def why(self, total: str) -> str:
        """Why total ("cpu", "gpu", "dram", "platform") is None; "" when it
        was measured."""
        if self._result is None:
            return "the measurement has not ended"
        return self.totals[total].reason

    @property
    def trace(self) -> List[TracePoint]:
        """The sampler's windows inside the region: (s from its begin, sensor
        id, W), by time."""
        return self._get(lambda r: r.trace, [])

    @property
    def provisional(self) -> bool:
        return self._get(lambda r: r.provisional, False)

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready: name, seconds, totals, sensors, trace."""
        if self._result is None:
            return {"name": self.name, "seconds": None, "totals": {}, "sensors": [],
                    "trace": []}
        return to_dict(self._result)

    def __str__(self) -> str:
        if self._result is None:
            return f"{self.name or 'region'}: not ended"
        return summary(self._result)

    def __repr__(self) -> str:
        return f"<joules.Measurement {self}>"


def _print_report(m: Measurement) -> None:
    print(m, file=sys.stderr)


def measure(name: Union[str, Callable, None] = "", *, sync: Optional[Callable[[], Any]] = None,
            gpus: Optional[Iterable[GpuSpec]] = None,
            report: Optional[Callable[[Measurement], Any]] = None,
            meter: Optional[Meter] = None) -> Any:
    """Measure a block (`with joules.measure("name") as m:`) or each call
    of a function (`@joules.measure()`, `@joules.measure("note")`, or bare
    `@joules.measure`).

    sync: called before each boundary (e.g. torch.cuda.synchronize).
    gpus: only these GPUs count: CUDA device indexes (after
    CUDA_VISIBLE_DEVICES), UUIDs or PCI bus ids.
    report: called with the Measurement when it ends (decorator default:
    print its summary to stderr).
    meter: a Meter of your own (default: one per process, sampler at 100 ms).
    """
    if callable(name):  # bare @joules.measure
        return Measurement("", sync=sync, gpus=gpus, report=report, meter=meter)(name)
    return Measurement(name or "", sync=sync, gpus=gpus, report=report, meter=meter)
