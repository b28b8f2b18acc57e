# SPDX-License-Identifier: MIT
"""`gpus=`: CUDA device indexes, UUIDs or PCI bus ids to physical GPUs.

CUDA numbers the devices a process sees after CUDA_VISIBLE_DEVICES, whose
entries are NVML indexes, UUIDs ("GPU-8a3c...", or a unique prefix of one)
or, here also, PCI bus ids ("0000:17:00.0"). An integer entry is taken as
NVML's index, which is PCI bus order: CUDA's order when
CUDA_DEVICE_ORDER=PCI_BUS_ID, or when all GPUs are of one model (CUDA's
default, fastest first, breaks ties by PCI bus id).
"""
import os
import re
from typing import Iterable, List, Optional, Sequence, Union

from ._abi import ERR_INVALID, ERR_NO_SENSOR
from ._context import Context, GpuInfo
from ._lib import JoulesError

GpuSpec = Union[int, str]

_BUS = re.compile(r"^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$")


def _bus(text: str) -> Optional[tuple]:
    """(domain, bus, device, function) of a PCI bus id, or None."""
    m = _BUS.match(text.strip())
    if not m:
        return None
    return tuple(int(g or "0", 16) for g in m.groups())


def _error(msg: str, code: int = ERR_INVALID) -> JoulesError:
    return JoulesError("joules: " + msg, code, "invalid argument")


def _match(spec: str, gpus: Sequence[GpuInfo], where: str) -> GpuInfo:
    """The GPU named by a UUID (or unique prefix), PCI bus id or NVML index."""
    spec = spec.strip()
    if spec.startswith("MIG-"):
        raise _error(f"{where} names a MIG instance ({spec}); joules measures whole GPUs: "
                     f"give the GPU's UUID (`nvidia-smi -L`)", ERR_NO_SENSOR)
    if spec.isdigit():
        i = int(spec)
        if i >= len(gpus):
            raise _error(f"{where} names GPU {i}, but NVML lists {len(gpus)} GPU(s)",
                         ERR_NO_SENSOR)
        return gpus[i]
    bus = _bus(spec)
    if bus is not None:
        for g in gpus:
            if _bus(g.pci_bus_id) == bus:
                return g
        raise _error(f"{where}: no GPU at PCI bus id {spec} (GPUs: "
                     f"{', '.join(g.pci_bus_id for g in gpus) or 'none'})", ERR_NO_SENSOR)
    found = [g for g in gpus if g.uuid.lower().startswith(spec.lower())] if spec else []
    if len(found) == 1:
        return found[0]
    what = "matches several GPUs" if found else "matches no GPU"
    raise _error(f"{where}: '{spec}' {what} (UUIDs: "
                 f"{', '.join(g.uuid for g in gpus) or 'none'}; see `joules gpu`)",
                 ERR_NO_SENSOR)


def visible(gpus: Sequence[GpuInfo], env: Optional[str] = None) -> List[GpuInfo]:
    """The physical GPUs in CUDA's numbering: CUDA device i is the result's
    item i. `env` is CUDA_VISIBLE_DEVICES (None: read it; unset: all GPUs)."""
    if env is None:
        env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is None:
        return list(gpus)
    out: List[GpuInfo] = []
    for entry in env.split(","):
        if not entry.strip():
            continue
        g = _match(entry, gpus, f"CUDA_VISIBLE_DEVICES={env!r}")
        if g in out:
            raise _error(f"CUDA_VISIBLE_DEVICES={env!r} names GPU {g.uuid} twice")
        out.append(g)
    return out


def resolve(ctx: Context, specs: Iterable[GpuSpec]) -> List[GpuInfo]:
    """The physical GPUs that `specs` name: an int is a CUDA device index
    (after CUDA_VISIBLE_DEVICES), a str a UUID, UUID prefix or PCI bus id.
    Raises JoulesError naming the spec that matches nothing."""
    n = ctx.gpu_count()
    every = [ctx.gpu(i) for i in range(n)]
    if n == 0:
        raise _error(f"gpus= names GPUs, but there is none: {ctx.gpu_error() or 'NVML found none'}",
                     ERR_NO_SENSOR)
    cuda = None
    out: List[GpuInfo] = []
    for spec in specs:
        if isinstance(spec, bool) or not isinstance(spec, (int, str)):
            raise _error(f"gpus= takes CUDA device indexes (int) or UUIDs / PCI bus ids "
                         f"(str), not {spec!r}")
        if isinstance(spec, int):
            if cuda is None:
                cuda = visible(every)
            if not 0 <= spec < len(cuda):
                env = os.environ.get("CUDA_VISIBLE_DEVICES")
                seen = f"CUDA_VISIBLE_DEVICES={env!r}" if env is not None else "no CUDA_VISIBLE_DEVICES"
                raise _error(f"gpus=: no CUDA device {spec}: this process sees {len(cuda)} "
                             f"({seen}, {n} GPU(s) in NVML)", ERR_NO_SENSOR)
            g = cuda[spec]
        else:
            g = _match(spec, every, "gpus=")
        if g.sensor < 0:
            raise _error(f"gpus=: GPU {g.index} ({g.uuid}) has no energy sensor", ERR_NO_SENSOR)
        if g not in out:
            out.append(g)
    return out
