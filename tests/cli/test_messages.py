#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Messages that name the cause: a write that fails says why (the errno's
text), a JOULES_SYSFS_ROOT that is not a directory is said to be so (and is
a failure, not an empty machine), and an empty -e item is a usage error."""
import os
import subprocess

from clitest import JOULES, TIMEOUT_S, WRAPPER, joules, main, test
from runtest import Tree, scratch


def tree():
    t = Tree()
    t.zone("intel-rapl:0", "package-0", 1000)
    return t


@test
def a_failed_write_says_why(case):
    if not os.path.exists("/dev/full"):
        case.check(False, "/dev/full is missing")
        return
    with tree() as t:
        for fmt in ([], ["--json"], ["--csv"]):
            p = joules("run", *fmt, "-o", "/dev/full", "--", "true", root=t.root)
            case.eq(p.returncode, 1, f"run {fmt}")
            case.has(p.stderr, "cannot write the report to /dev/full: No space left on device",
                     f"run {fmt} message")
        p = joules("record", "-o", "/dev/full", "--", "true", root=t.root)
        case.eq(p.returncode, 1, "record")
        case.has(p.stderr, "cannot write /dev/full: No space left on device", "record message")
        for args in (["list"], ["list", "--json"], ["run", "--help"]):
            with open("/dev/full", "w") as full:
                q = subprocess.run([*WRAPPER, JOULES, *args], stdout=full, stderr=subprocess.PIPE,
                                   env=dict(os.environ, JOULES_SYSFS_ROOT=t.root), text=True,
                                   timeout=TIMEOUT_S)
            case.eq(q.returncode, 1, f"{args} > /dev/full")
            case.has(q.stderr, "cannot write stdout: No space left on device", f"{args} message")


@test
def a_missing_sysfs_root_is_said_to_be_missing(case):
    with scratch() as d:
        afile = os.path.join(d, "file")
        open(afile, "w").close()
        for root, why in ((os.path.join(d, "nonexistent"), "no such directory"),
                          (afile, "not a directory")):
            for args in (["list"], ["list", "--json"], ["gpu"], ["run", "--", "true"],
                         ["record", "-o", os.path.join(d, "t.csv"), "--", "true"]):
                p = joules(*args, root=root)
                case.eq(p.returncode, 1, f"{args} with {why}")
                case.has(p.stderr, f"JOULES_SYSFS_ROOT={root}: {why}", f"{args} message")
                case.check("modprobe" not in p.stdout + p.stderr,
                           f"{args}: advice for another problem: {p.stdout + p.stderr}")


@test
def an_empty_sensor_item_is_a_usage_error(case):
    with tree() as t, scratch() as d:
        for item in ("", ",", "package-0,", ",package-0", "package-0,,cpu"):
            for cmd in (["run", "-e", item, "--", "true"],
                        ["record", "-o", os.path.join(d, "t.csv"), "-e", item, "--", "true"]):
                p = joules(*cmd, root=t.root)
                case.eq(p.returncode, 2, f"{cmd}")
                case.has(p.stderr, f"-e '{item}': an empty sensor name", f"{cmd} message")
                case.check("no energy sensors here" not in p.stderr, f"{cmd}: ran anyway")


if __name__ == "__main__":
    main()
