#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""On the GPU machine: the Python bindings with real GPUs and torch.

For each visible GPU k, load only GPU k with bf16 matmuls for 2 s inside
`joules.measure(gpus=[...])` regions: one restricted to GPU k, one to the
other GPUs, one over all. Prints per-GPU energies, so load isolation and the
CUDA_VISIBLE_DEVICES mapping (CUDA index -> physical GPU by UUID) can be read
off: the loaded GPU's energy is far above idle, the others stay at idle.
Run by tools/device_check_python.sh, which builds libjoules with gcc.
"""
import os
import sys
import time

import torch

import joules


def load(dev: int, seconds: float) -> None:
    a = torch.randn(8192, 8192, device=f"cuda:{dev}", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device=f"cuda:{dev}", dtype=torch.bfloat16)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(20):
            a @ b
        torch.cuda.synchronize(dev)


def main() -> int:
    n = torch.cuda.device_count()
    print(f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '(unset)')}; "
          f"torch sees {n} GPU(s): "
          + ", ".join(str(torch.cuda.get_device_properties(i).uuid) for i in range(n)))
    for k in range(n):
        load(k, 0.3)  # warm up: allocations and kernels outside the regions
        others = [i for i in range(n) if i != k]
        sync = lambda: torch.cuda.synchronize()  # noqa: E731
        with joules.measure(f"all, load on cuda:{k}", sync=sync) as m_all, \
                joules.measure(f"cuda:{k} only", gpus=[k], sync=sync) as m_k:
            if others:
                with joules.measure("others", gpus=others, sync=sync) as m_o:
                    load(k, 2.0)
            else:
                m_o = None
                load(k, 2.0)
        print(f"== load on cuda:{k}")
        for m in (m_all, m_k, m_o):
            if m is None:
                continue
            gpu = {sid: round(j, 1) for sid, j in m.energy_j.items()
                   if sid.startswith("nvml:") and j is not None}
            print(f"  {m.name:22} {m.seconds:6.3f} s  gpu_j {m.gpu_j!s:>10}  per GPU {gpu}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
