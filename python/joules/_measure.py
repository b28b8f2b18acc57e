# SPDX-License-Identifier: MIT
"""Measurement: a region as a `with` block or a decorator; measure()."""
import functools
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from ._gpus import GpuSpec
from ._lib import JoulesError
from ._meter import Meter, _Window, default_meter
from ._result import Result, SensorResult, TotalResult, TracePoint, summary, to_dict


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
