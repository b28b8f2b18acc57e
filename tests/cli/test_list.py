#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`joules list` on fake sysfs trees: every zone with the right kind,
source, parent and energy; messy trees listed whole, never a crash."""
import os

from clitest import Case, Tree, joules, list_json, main, test

J = 1_000_000  # µJ
RAPL_RANGE_UJ = 262143328850
AMD_RANGE_UJ = 65532610987

# id: (name, kind, device, parent id, energy µJ, max_energy_range_uj).
# Zone k of a layout starts at (k + 1) J (tests/rig/layouts_powercap.c).
LAYOUTS = {
    "intel-2s": {
        "rapl:package-0": ("package-0", "cpu-package", "socket 0", None, 1 * J, RAPL_RANGE_UJ),
        "rapl:core-0": ("core-0", "cpu-core", "socket 0", "rapl:package-0", 2 * J, RAPL_RANGE_UJ),
        "rapl:uncore-0": ("uncore-0", "uncore", "socket 0", "rapl:package-0", 3 * J, RAPL_RANGE_UJ),
        "rapl:dram-0": ("dram-0", "dram", "socket 0", None, 4 * J, RAPL_RANGE_UJ),
        "rapl:package-1": ("package-1", "cpu-package", "socket 1", None, 5 * J, RAPL_RANGE_UJ),
        "rapl:core-1": ("core-1", "cpu-core", "socket 1", "rapl:package-1", 6 * J, RAPL_RANGE_UJ),
        "rapl:uncore-1": ("uncore-1", "uncore", "socket 1", "rapl:package-1", 7 * J, RAPL_RANGE_UJ),
        "rapl:dram-1": ("dram-1", "dram", "socket 1", None, 8 * J, RAPL_RANGE_UJ),
    },
    "amd-zen": {
        "rapl:package-0": ("package-0", "cpu-package", "socket 0", None, 1 * J, AMD_RANGE_UJ),
        "rapl:core-0": ("core-0", "cpu-core", "socket 0", "rapl:package-0", 2 * J, AMD_RANGE_UJ),
    },
    # intel-rapl-mmio:0 repeats package-0 and must not be listed twice.
    "laptop": {
        "rapl:package-0": ("package-0", "cpu-package", "socket 0", "rapl:psys", 1 * J, RAPL_RANGE_UJ),
        "rapl:core-0": ("core-0", "cpu-core", "socket 0", "rapl:package-0", 2 * J, RAPL_RANGE_UJ),
        "rapl:uncore-0": ("uncore-0", "uncore", "socket 0", "rapl:package-0", 3 * J, RAPL_RANGE_UJ),
        "rapl:psys": ("psys", "platform", "", None, 4 * J, RAPL_RANGE_UJ),
    },
}


def uj(joules_float):
    return round(joules_float * 1e6)


def check_layout(case, layout):
    want = LAYOUTS[layout]
    with Tree(layout) as t:
        _, got, doc = list_json(case, root=t.root)
    case.eq(sorted(got), sorted(want), f"{layout}: ids")
    for sid, (name, kind, device, parent, energy, rng) in want.items():
        s = got.get(sid)
        if not case.check(s is not None, f"{layout}: {sid} missing"):
            continue
        case.eq(s["name"], name, f"{sid} name")
        case.eq(s["kind"], kind, f"{sid} kind")
        case.eq(s["source"], "powercap", f"{sid} source")
        case.eq(s["device"], device, f"{sid} device")
        case.eq(s["parent"], parent, f"{sid} parent")
        case.eq(s["readable"], True, f"{sid} readable")
        case.check("reason" not in s, f"{sid} has a reason: {s.get('reason')}")
        case.eq(uj(s.get("energy_j", -1)), energy, f"{sid} energy µJ")
        case.eq(uj(s.get("range_j", -1)), rng + 1, f"{sid} range µJ")
        case.eq(s["unit"], "energy-counter", f"{sid} unit")
        case.check(s.get("wrap_period_s", 0) > 0, f"{sid} wrap period")
    src = {x["name"]: x["note"] for x in doc.get("sources", [])}
    case.check("powercap" in src and src["powercap"] is None,
               f"{layout}: powercap source without a note: {src}")


@test
def intel_2s_json(case):
    check_layout(case, "intel-2s")


@test
def amd_zen_json(case):
    check_layout(case, "amd-zen")


@test
def laptop_json_psys_and_mmio(case):
    check_layout(case, "laptop")


@test
def table_lists_every_id(case):
    for layout, want in LAYOUTS.items():
        with Tree(layout) as t:
            p = joules("list", root=t.root)
        case.eq(p.returncode, 0, f"{layout}: exit status; stderr: {p.stderr}")
        lines = p.stdout.splitlines()
        case.check(lines and lines[0].startswith("ID"), f"{layout}: header: {lines[:1]}")
        rows = {ln.split()[0]: ln for ln in lines[1:] if ln.strip()}
        for sid, (*_, energy, _rng) in want.items():
            row = rows.get(sid)
            if case.check(row is not None, f"{layout}: {sid} not in table:\n{p.stdout}"):
                case.has(row, f"{energy // J}.000000", f"{sid} energy in table")
                case.check(row.rstrip().endswith("ok"), f"{sid} status: {row}")


@test
def list_sees_advanced_counters(case):
    with Tree("intel-2s") as t:
        t.fs("advance", "class/powercap/intel-rapl:1:2/energy_uj", "2500001", "0")
        _, got, _ = list_json(case, root=t.root)
    case.eq(uj(got["rapl:dram-1"]["energy_j"]), 8 * J + 2500001, "dram-1 after advance")
    case.eq(uj(got["rapl:dram-0"]["energy_j"]), 4 * J, "dram-0 untouched")


# Messy zones: id -> (readable, words the reason must hold).
MESSY = {
    "rapl:package-0": (True, ()),
    "rapl:core-0": (True, ()),  # enabled 0 still counts
    "rapl:package-1": (False, ("intel-rapl:1/energy_uj", '""')),  # empty
    "rapl:package-2": (False, ("intel-rapl:2/energy_uj", "abc")),  # not a number
    "rapl:package-3": (True, ()),  # no max_energy_range_uj
    "rapl:intel-rapl:4": (False, ("intel-rapl:4", "dangling symlink")),
    "rapl:intel-rapl:5": (True, ()),  # no name file
    "rapl:package-6": (False, ("intel-rapl:6/energy_uj", "missing")),
}


@test
def messy_layout_listed_whole(case):
    with Tree("messy-powercap") as t:
        _, got, _ = list_json(case, root=t.root)
        table = joules("list", root=t.root)
    case.eq(sorted(got), sorted(MESSY), "messy ids")
    for sid, (readable, words) in MESSY.items():
        s = got.get(sid)
        if not case.check(s is not None, f"{sid} missing"):
            continue
        case.eq(s["readable"], readable, f"{sid} readable")
        if readable:
            case.check("energy_j" in s, f"{sid}: no energy_j")
        else:
            case.check("energy_j" not in s, f"{sid}: energy_j while unreadable")
            case.check(s.get("error"), f"{sid}: no error code name")
            for w in words:
                case.has(s.get("reason"), w, f"{sid} reason")
    case.eq(uj(got["rapl:package-3"]["energy_j"]), 7 * J, "package-3 energy")
    case.check("range_j" not in got["rapl:package-3"], "package-3 has no range")
    case.eq(table.returncode, 0, f"table exit status; stderr: {table.stderr}")
    for sid in MESSY:
        case.has(table.stdout, sid, "messy table")


def messier(t):
    """Worse than the layout: each entry is one more way sysfs can look."""
    pc = t.path("class/powercap")
    t.zone("intel-rapl:0", "package-0", 1 * J)
    # energy_uj is a directory.
    t.zone("intel-rapl:1", "package-1", 0)
    os.unlink(f"{pc}/intel-rapl:1/energy_uj")
    os.mkdir(f"{pc}/intel-rapl:1/energy_uj")
    # The zone is a plain file.
    t.fs("write", "class/powercap/intel-rapl:2", "zone?\n")
    # A name longer than any buffer, and one that is empty.
    t.zone("intel-rapl:3", "package-3" + "x" * 300, 3 * J)
    t.zone("intel-rapl:4", "", 4 * J)
    # Garbage in max_energy_range_uj; a value over the range.
    t.zone("intel-rapl:5", "package-5", 5 * J)
    t.fs("write", "class/powercap/intel-rapl:5/max_energy_range_uj", "lots\n")
    t.zone("intel-rapl:6", "package-6", 10 * J, range_uj=5 * J)
    # Binary junk, and a number too big for 64 bits.
    t.zone("intel-rapl:7", "package-7", 0)
    with open(f"{pc}/intel-rapl:7/energy_uj", "wb") as f:
        f.write(b"\x00\xff\x1b[31m\n")
    t.zone("intel-rapl:8", "package-8", 0)
    t.fs("write", "class/powercap/intel-rapl:8/energy_uj", "99999999999999999999999\n")
    # A sub-zone whose package is missing; a package index out of range.
    t.zone("intel-rapl:9:0", "core", 9 * J)
    t.zone("intel-rapl:99999", "package-99999", 1)
    # A symlink loop, and energy_uj a dangling symlink.
    os.symlink("intel-rapl:10", f"{pc}/intel-rapl:10")
    t.zone("intel-rapl:11", "package-11", 0)
    os.unlink(f"{pc}/intel-rapl:11/energy_uj")
    os.symlink("/nonexistent/energy_uj", f"{pc}/intel-rapl:11/energy_uj")
    # An mmio sub-zone with no mmio package.
    t.zone("intel-rapl-mmio:3:0", "core", 3)


@test
def messier_tree_never_crashes(case):
    with Tree() as t:
        messier(t)
        _, got, _ = list_json(case, root=t.root)
        table = joules("list", root=t.root)
    case.eq(table.returncode, 0, f"table exit status; stderr: {table.stderr}")
    # Every entry that parses as a zone is listed, intel-rapl:99999 too (its
    # number is hex, and nothing bounds how many zones the kernel makes).
    case.eq(len(got), 14, f"zones listed: {sorted(got)}")
    case.eq(got.get("rapl:package-99999", {}).get("device"), "socket 99999", "package-99999")
    readable = {sid for sid, s in got.items() if s["readable"]}
    long_id = "rapl:" + ("package-3" + "x" * 300)[:58]  # cut to fit JOULES_ID_LEN
    case.eq(readable, {"rapl:package-0", long_id,
                       "rapl:intel-rapl:4", "rapl:package-5", "rapl:core-9",
                       "rapl:core-3", "rapl:package-99999"}, "readable zones")
    for sid, s in got.items():
        if not s["readable"]:
            case.check(s.get("reason"), f"{sid}: unreadable without a reason")
    case.has(got.get("rapl:package-6", {}).get("reason"), "outside the counter's range",
             "value over max_energy_range_uj")
    case.check("range_j" not in got.get("rapl:package-5", {}), "garbage range used")
    junk = got.get("rapl:package-7", {}).get("reason", "")
    case.check("[31m" in junk and "\x1b" not in junk and "\x00" not in junk,
               f"binary junk shown raw: {junk!r}")
    case.eq(got.get("rapl:core-9", {}).get("parent", "?"), None, "orphan core parent")
    case.has(table.stdout, "rapl:package-0", "table")


@test
def empty_tree_lists_nothing_and_says_why(case):
    with Tree() as t:
        _, got, doc = list_json(case, root=t.root)
        table = joules("list", root=t.root)
    case.eq(got, {}, "no sensors")
    src = {x["name"]: x["note"] for x in doc.get("sources", [])}
    case.has(src.get("powercap"), "no intel-rapl zones", "powercap note")
    case.eq(table.returncode, 0, "table exit status")
    if not doc.get("sensors"):  # a GPU library may still see the machine's GPUs
        case.has(table.stdout, "No energy sensors found", "table")
    case.has(table.stdout, "powercap: no intel-rapl zones", "table note")


if __name__ == "__main__":
    main()
