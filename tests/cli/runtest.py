# SPDX-License-Identifier: MIT
"""What the run/record/plot tests share: commands that advance fake
counters by known amounts while joules measures them."""
import os
import shlex
import tempfile
import threading
import time

from clitest import FAKESYS, Tree

ZONE = {  # sensor id -> its counter in the intel-2s and laptop layouts
    "rapl:package-0": "class/powercap/intel-rapl:0/energy_uj",
    "rapl:core-0": "class/powercap/intel-rapl:0:0/energy_uj",
    "rapl:uncore-0": "class/powercap/intel-rapl:0:1/energy_uj",
    "rapl:dram-0": "class/powercap/intel-rapl:0:2/energy_uj",
    "rapl:package-1": "class/powercap/intel-rapl:1/energy_uj",
    "rapl:dram-1": "class/powercap/intel-rapl:1:2/energy_uj",
}
LAPTOP_PSYS = "class/powercap/intel-rapl:1/energy_uj"


def advance(tree, rel, uj):
    """A shell command that adds `uj` µJ to a counter of `tree`."""
    return f"{shlex.quote(FAKESYS)} {shlex.quote(tree.root)} advance {rel} {uj} 0"


def script(*steps, sleep=0.05):
    """sh -c running the steps with a pause between, so the sampler ticks
    in between."""
    return ["sh", "-c", f"; sleep {sleep}; ".join(steps)]


class Advancer(threading.Thread):
    """Adds `uj` to a counter every `period` s until stopped, writing in
    place as sysfs does, from this process (no fork per step)."""

    def __init__(self, tree, rel, uj, period):
        super().__init__(daemon=True)
        self.path, self.uj, self.period = tree.path(rel), uj, period
        self.done = threading.Event()

    def run(self):
        fd = os.open(self.path, os.O_RDWR)
        try:
            while not self.done.wait(self.period):
                v = int(os.pread(fd, 32, 0)) + self.uj
                data = f"{v}\n".encode()
                os.pwrite(fd, data, 0)
                os.ftruncate(fd, len(data))
        finally:
            os.close(fd)

    def stop(self):
        self.done.set()
        self.join()


def wait_for(path, timeout=60):
    """Wait until a file exists (a command says it has started)."""
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.02)


def scratch():
    return tempfile.TemporaryDirectory(prefix="joules-test-")


__all__ = ["Advancer", "LAPTOP_PSYS", "Tree", "ZONE", "advance", "scratch", "script",
           "wait_for"]
