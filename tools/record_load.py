#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The load of the issue 19 recording (../shared/data/README.md), on as many
GPUs as there are: ~import torch and a CUDA context on each, GPU 0 runs
bf16 8192² matmuls back to back for 2 s while GPU 1 (if any) runs them at
50% duty in 0.4 s periods for 2.5 s, starting 1 s later; then 1 s idle.
Run under `joules record` (tools/device_record.sh)."""
import threading
import time

import torch


def busy(dev, seconds, duty=1.0, period=0.4, delay=0.0):
    a = torch.randn(8192, 8192, dtype=torch.bfloat16, device=dev)
    b = torch.randn(8192, 8192, dtype=torch.bfloat16, device=dev)
    torch.cuda.synchronize(dev)
    time.sleep(delay)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        on = time.monotonic() + period * duty
        while time.monotonic() < on:
            torch.matmul(a, b)
            torch.cuda.synchronize(dev)
        time.sleep(period * (1 - duty))


def main():
    n = torch.cuda.device_count()
    for d in range(n):  # every context up before the load starts
        torch.zeros(1, device=f"cuda:{d}")
    time.sleep(1.0)
    jobs = [threading.Thread(target=busy, args=("cuda:0", 2.0))]
    if n > 1:
        jobs.append(threading.Thread(target=busy, args=("cuda:1", 2.5, 0.5, 0.4, 1.0)))
    for j in jobs:
        j.start()
    for j in jobs:
        j.join()
    time.sleep(1.0)


if __name__ == "__main__":
    main()
