# SPDX-License-Identifier: MIT
"""A measured region as Python values: per sensor, totals by kind, trace."""
import functools
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Tuple

from . import _abi
from ._context import Context

# (seconds from the region's begin to the end of a sampler window, sensor id, W)
TracePoint = Tuple[float, str, float]


@dataclass(frozen=True)
class SensorResult:
    """One sensor over a region (struct joules_region_sensor).

    state: "ok" (read at every boundary), "gap" (reads failed in between but
    the ends were read: the energy is still exact unless `energy_j` is None),
    "partial" (failed before the end: the energy covers `covered_s` only),
    "reset" (the counter was reset: energy unknown), "unreadable" (failed at
    the start). energy_j and uncertainty_j (a bound on its error, not a
    deviation) in J, None when not known; covered_s in s; mean_w and peak_w
    in W (peak: the highest sampler window inside the region when
    `peak_sampled`, else the mean); idle_w and above_idle_j only with a
    baseline; wraps: hardware counter wraps added back; error: the library's
    name for the failure ("permission denied") or None; reason: the file or
    call that failed, why, and the fix ("" when none); via: "daemon" when
    read through joulesd (JOULES_SENSOR_VIA_DAEMON), else "direct".
    """
    id: str
    name: str
    kind: str
    source: str
    device: str
    total: Optional[str]
    state: str
    energy_j: Optional[float]
    uncertainty_j: Optional[float]
    covered_s: float
    mean_w: Optional[float]
    peak_w: Optional[float]
    peak_sampled: bool
    wraps: int
    provisional: bool
    idle_w: Optional[float]
    above_idle_j: Optional[float]
    above_idle_uncertainty_j: Optional[float]
    error: Optional[str]
    reason: str
    via: str


@dataclass(frozen=True)
class TotalResult:
    """A total by kind ("cpu": packages, "dram", "gpu", "platform": psys,
    which contains the packages) over the measured sensors, never counting
    a domain twice. energy_j / uncertainty_j in J and mean_w in W are None
    when not measured; `reason` then says why (no such sensor, or the
    sensor `missing` whose energy is not known, and its error)."""
    name: str
    energy_j: Optional[float]
    uncertainty_j: Optional[float]
    mean_w: Optional[float]
    above_idle_j: Optional[float]
    sensors: int
    missing: Optional[str]
    reason: str


class Result:
    """Everything known of one ended region; what Measurement exposes.
    Built from the C records when first asked for (ending a region only
    copies them)."""

    def __init__(self, ctx: Context, res: "_abi.RegionResult", per, totals,
                 adds: Dict[int, Optional[str]], trace: List[TracePoint], strerror):
        self.name = _abi.text(res.name)
        self.seconds = res.duration_ns / 1e9
        self.paused_s = res.paused_ns / 1e9
        self.begin_ns, self.end_ns = res.begin_ns, res.end_ns
        self.provisional = bool(res.flags & _abi.REGION_PROVISIONAL)
        self.trace = trace
        self._raw = (ctx, per, totals, adds, strerror)

    @functools.cached_property
    def sensors(self) -> Dict[str, SensorResult]:
        ctx, per, _, adds, strerror = self._raw
        return {ctx.sensors[i].id: sensor_result(ctx, i, per[i], total, strerror)
                for i, total in adds.items()}

    @functools.cached_property
    def totals(self) -> Dict[str, TotalResult]:
        ctx, _, totals, _, _ = self._raw
        return {_abi.TOTAL_NAMES[k]: total_result(ctx, k, totals[k], self.seconds)
                for k in range(_abi.TOTALS)}


def _j(uj: int) -> float:
    return uj / 1e6


def sensor_result(ctx: Context, i: int, s: "_abi.RegionSensor",
                  total: Optional[str], strerror) -> SensorResult:
    info = ctx.sensors[i]
    has = bool(s.flags & _abi.REGION_HAS_ENERGY)
    idle = bool(s.flags & _abi.REGION_HAS_IDLE) and has
    state = _abi.REGION_STATES[s.state] if 0 <= s.state < len(_abi.REGION_STATES) else str(s.state)
    return SensorResult(
        id=info.id, name=info.name, kind=info.kind, source=info.source, device=info.device,
        total=total, state=state,
        energy_j=_j(s.energy_uj) if has else None,
        uncertainty_j=_j(s.uncertainty_uj) if has else None,
        covered_s=s.covered_ns / 1e9,
        mean_w=s.mean_w if has else None,
        peak_w=s.peak_w if has else None,
        peak_sampled=bool(s.flags & _abi.REGION_PEAK_SAMPLED),
        wraps=s.wraps,
        provisional=bool(s.flags & _abi.REGION_PROVISIONAL),
        idle_w=s.idle_w if idle else None,
        above_idle_j=_j(s.above_idle_uj) if idle else None,
        above_idle_uncertainty_j=_j(s.above_idle_uncertainty_uj) if idle else None,
        error=strerror(s.error) if s.error else None,
        reason=_abi.text(s.reason) if s.error else "",
        via=info.via)


def total_result(ctx: Context, k: int, t: "_abi.RegionTotal", seconds: float) -> TotalResult:
    has = bool(t.flags & _abi.REGION_HAS_ENERGY)
    idle = has and bool(t.flags & _abi.REGION_HAS_IDLE)
    missing = ctx.sensors[t.missing].id if 0 <= t.missing < len(ctx.sensors) else None
    return TotalResult(
        name=_abi.TOTAL_NAMES[k],
        energy_j=_j(t.energy_uj) if has else None,
        uncertainty_j=_j(t.uncertainty_uj) if has else None,
        mean_w=(_j(t.energy_uj) / seconds if seconds > 0 else None) if has else None,
        above_idle_j=_j(t.above_idle_uj) if idle else None,
        sensors=t.sensors, missing=missing,
        reason="" if has else _abi.text(t.reason))


def _short(reason: str, limit: int = 100) -> str:
    """A reason cut for the one-line summary (the whole one: why())."""
    return reason if len(reason) <= limit else reason[:limit - 1].rstrip() + "…"


def summary(r: Result) -> str:
    """One line: name, seconds, each measured total with its mean power,
    and why a total that has sensors was not measured."""
    parts = [f"{r.name or 'region'}: {r.seconds:.3f} s"]
    for t in r.totals.values():
        if t.energy_j is not None:
            w = f", {t.mean_w:.1f} W" if t.mean_w is not None else ""
            parts.append(f"{t.name} {t.energy_j:.3f} J ±{t.uncertainty_j:.3g}{w}")
        elif t.sensors or t.missing:
            parts.append(f"{t.name} not measured ({_short(t.reason)})")
    if not any(t.energy_j is not None or t.sensors for t in r.totals.values()):
        parts.append("no sensor measured (see joules list)")
    bad = [s.id for s in r.sensors.values() if s.state != "ok" and s.total]
    if bad:
        parts.append(f"incomplete: {', '.join(bad)}")
    return "; ".join(parts)


def to_dict(r: Result) -> Dict[str, Any]:
    """JSON-ready: plain dicts, lists, numbers, strings and None."""
    return {
        "name": r.name, "seconds": r.seconds, "paused_s": r.paused_s,
        "provisional": r.provisional,
        "totals": {k: asdict(t) for k, t in r.totals.items()},
        "sensors": [asdict(s) for s in r.sensors.values()],
        "trace": [list(p) for p in r.trace],
    }
