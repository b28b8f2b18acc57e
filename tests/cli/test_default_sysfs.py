#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""With JOULES_SYSFS_ROOT unset, joules reads the real /sys. To prove it
without RAPL hardware, a fake tree's class/ is bind-mounted over /sys/class
in a private mount namespace (unshare -m), which the host never sees.
Needs root and unshare; skipped otherwise."""
import os
import shutil
import subprocess

from clitest import Skip, Tree, list_json, main, need_root, test

J = 1_000_000


def mount_ns_prefix(tree):
    """A command prefix that runs the rest with tree/class over /sys/class."""
    need_root()
    if not shutil.which("unshare") or not shutil.which("mount"):
        raise Skip("unshare or mount is not installed")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise Skip(f"no mount namespaces here: {probe.stderr.strip()}")
    # unshare -m makes mounts private, so the bind mount dies with the shell.
    script = 'mount --bind "$0/class" /sys/class && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, tree.root]


@test
def default_root_is_sys(case):
    with Tree("laptop") as t:
        t.fs("advance", "class/powercap/intel-rapl:1/energy_uj", "1234567", "0")
        _, got, _ = list_json(case, root=None, prefix=mount_ns_prefix(t))
        # The namespace is gone with its shell: the host's /sys/class is its own.
        case.check(not os.path.samefile("/sys/class", t.path("class")),
                   "the bind mount leaked to the host")
    case.eq(sorted(got), ["rapl:core-0", "rapl:package-0", "rapl:psys", "rapl:uncore-0"],
            "zones of the fake tree seen under /sys")
    psys = got.get("rapl:psys", {})
    case.eq(round(psys.get("energy_j", -1) * 1e6), 4 * J + 1234567, "psys energy")


if __name__ == "__main__":
    main()
