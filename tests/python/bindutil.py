# SPDX-License-Identifier: MIT
"""What the Python binding tests share: fake sysfs trees (the rig's
`fakesys` tool), the fake libnvidia-ml.so.1 config, and counter steps.

Environment (tests/meson.build): JOULES_LIBRARY (the built library),
PYTHONPATH (python/ of the source tree), FAKESYS, FAKE_NVML_DIR,
JOULES_ABI_LAYOUT (the layout printer).
"""
import os
import shutil
import subprocess
import tempfile

FAKESYS = os.environ["FAKESYS"]
FAKE_NVML = os.path.join(os.environ["FAKE_NVML_DIR"], "libnvidia-ml.so.1")
J = 1_000_000  # µJ
PC = "class/powercap/"
PKG0 = PC + "intel-rapl:0/energy_uj"
CORE0 = PC + "intel-rapl:0:0/energy_uj"
DRAM0 = PC + "intel-rapl:0:2/energy_uj"
PKG1 = PC + "intel-rapl:1/energy_uj"


class Tree:
    """A fake sysfs tree of the given layouts (none: empty), removed on exit."""

    def __init__(self, *layouts: str):
        out = subprocess.run([FAKESYS, "new", *layouts], check=True,
                             capture_output=True, text=True)
        self.root = out.stdout.strip()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.root)

    def fs(self, *args: str) -> None:
        subprocess.run([FAKESYS, self.root, *args], check=True)

    def advance(self, rel: str, uj: int) -> None:
        """Add `uj` µJ to a counter (modulus 0: the layout's own range)."""
        self.fs("advance", rel, str(uj), "0")


class FakeGpus:
    """The fake NVML for this process: JOULES_NVML_LIBRARY and its config
    (re-read by the fake when replaced). Restores the hermetic setting on
    exit."""

    def __init__(self, text: str):
        self.dir = tempfile.mkdtemp(prefix="joules-pytest-")
        self.path = os.path.join(self.dir, "nvml.conf")
        self.write(text)

    def write(self, text: str) -> None:
        tmp = self.path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.path)

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in ("JOULES_NVML_LIBRARY", "FAKE_NVML_CONFIG")}
        os.environ.update(JOULES_NVML_LIBRARY=FAKE_NVML, FAKE_NVML_CONFIG=self.path)
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(self.dir)
