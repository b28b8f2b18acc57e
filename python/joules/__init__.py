# SPDX-License-Identifier: MIT
"""joules: the energy of Python code, from every sensor of the machine.

    import joules

    with joules.measure("train") as m:
        train()
    print(m)                 # train: 2.503 s; cpu 120.500 J ±0.02, 48.1 W; gpu ...
    m.cpu_j, m.gpu_j, m.dram_j, m.platform_j     # J, or None (m.why("gpu"))
    m.energy_j, m.mean_w, m.peak_w, m.uncertainty_j   # per sensor id
    m.sensors["rapl:package-0"].state, m.to_dict(), m.trace

    @joules.measure("step")  # each call measured, its summary on stderr
    def step(): ...

    meter = joules.Meter()   # named windows that nest and overlap
    meter.begin("a"); meter.begin("b"); meter.end("a"); meter.end("b")

Pure Python over libjoules (ctypes): `libjoules.so.0` from the dynamic
loader, or the file named by $JOULES_LIBRARY. Energies are read as
cumulative hardware counters (RAPL through powercap or perf, NVIDIA GPUs
through NVML, hwmon), so short regions and bursts are counted exactly.
Failures raise JoulesError carrying the library's message.
"""
from ._context import Context, GpuInfo, SensorInfo
from ._lib import JoulesError, LibraryNotFound
from ._measure import Measurement, measure
from ._meter import Meter, default_meter
from ._result import SensorResult, TotalResult, TracePoint


def version() -> str:
    """The loaded libjoules' version, "MAJOR.MINOR.PATCH"."""
    from ._lib import lib
    return lib().joules_version().decode()


__all__ = ["Context", "GpuInfo", "JoulesError", "LibraryNotFound", "Measurement", "Meter",
           "SensorInfo", "SensorResult", "TotalResult", "TracePoint", "default_meter",
           "measure", "version"]
