#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Since Linux 5.10 energy_uj is 0400 root: a real unprivileged user
(nobody, through setpriv) must see such a zone listed, unreadable, with the
reason and the fix, while a world-readable zone next to it reads fine.
Needs root to build the tree and switch users; skipped otherwise."""
import shutil
import subprocess

from clitest import AS_NOBODY, JOULES, Skip, Tree, joules, list_json, main, need_root, test

J = 1_000_000


def can_run_as_nobody(path):
    """Whether nobody can reach and run `path` (its build dir may be private)."""
    if not shutil.which("setpriv"):
        raise Skip("setpriv is not installed")
    p = subprocess.run([*AS_NOBODY, "test", "-x", path], capture_output=True)
    if p.returncode != 0:
        raise Skip(f"nobody cannot run {path}: a directory above it is private")


def locked_tree():
    """package-0 root-only (0400) as since 5.10; package-1 still 0444."""
    t = Tree()
    t.zone("intel-rapl:0", "package-0", 1 * J)
    t.zone("intel-rapl:1", "package-1", 2 * J)
    t.fs("chmod", "class/powercap/intel-rapl:0/energy_uj", "400")
    t.fs("chmod", "class/powercap/intel-rapl:1/energy_uj", "444")
    return t


@test
def root_only_zone_listed_with_reason_and_fix(case):
    need_root()
    can_run_as_nobody(JOULES)
    with locked_tree() as t:
        _, got, _ = list_json(case, root=t.root, prefix=AS_NOBODY)
    locked = got.get("rapl:package-0")
    if case.check(locked is not None, f"root-only zone not listed: {sorted(got)}"):
        case.eq(locked["readable"], False, "root-only zone readable")
        case.eq(locked.get("error"), "permission denied", "error")
        case.check("energy_j" not in locked, "energy shown for an unreadable zone")
        case.eq(locked["name"], "package-0", "name (world-readable) still read")
        case.eq(locked["kind"], "cpu-package", "kind")
        reason = locked.get("reason", "")
        for w in ("intel-rapl:0/energy_uj", "root-only", "Linux 5.10", "CVE-2020-8694", "sudo"):
            case.has(reason, w, "reason")
    open_zone = got.get("rapl:package-1")
    if case.check(open_zone is not None, "0444 zone not listed"):
        case.eq(open_zone["readable"], True, "0444 zone readable")
        case.eq(round(open_zone.get("energy_j", -1) * 1e6), 2 * J, "0444 zone energy")


@test
def root_still_reads_the_root_only_zone(case):
    need_root()
    with locked_tree() as t:
        _, got, _ = list_json(case, root=t.root)
    case.eq(got.get("rapl:package-0", {}).get("readable"), True, "root reads a 0400 zone")


@test
def table_as_nobody(case):
    need_root()
    can_run_as_nobody(JOULES)
    with locked_tree() as t:
        p = joules("list", root=t.root, prefix=AS_NOBODY)
    case.eq(p.returncode, 0, f"exit status; stderr: {p.stderr}")
    rows = {ln.split()[0]: ln for ln in p.stdout.splitlines()[1:] if ln.strip()}
    case.has(rows.get("rapl:package-0"), "root-only", "locked row")
    case.check(rows.get("rapl:package-1", "").rstrip().endswith("ok"),
               f"open row: {rows.get('rapl:package-1')}")


if __name__ == "__main__":
    main()
