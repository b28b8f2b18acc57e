#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One domain, counted once: on every layout of the domain model, with
every source readable (perf's PMU pointed at the kernel's software PMU, as
root), `joules run` totals count each domain exactly once while the
measured command advances every counter by 1 J. And on AMD, a user who may
not read powercap gets one package sensor per socket through amd_energy."""
import glob
import json
import os
import shlex

from clitest import AS_NOBODY, FAKESYS, JOULES, Skip, Tree, joules, main, need_root, test

J = 1_000_000
PMU = "bus/event_source/devices/power"

# layout(s): (cpu J, dram J, platform J, gpu J) when each energy counter moves 1 J.
LAYOUTS = {
    ("psys-between",): (2, 2, 1, None),
    ("psys-first",): (2, 2, 1, None),
    ("psys-last",): (2, 2, 1, None),
    ("per-die-perf",): (2, 2, None, None),  # two dies, no package zone above them
    ("hex-zones",): (16, None, None, None),
    ("laptop",): (1, None, 1, None),  # intel-rapl-mmio:0 is package-0 again
    ("intel-2s", "perf-intel-2s"): (2, 2, "perf", None),  # psys only through perf
    ("amd-2s", "hwmon-amd-energy"): (2, None, None, None),  # Esocket0/1 are the packages
    ("perf+powercap",): (1, None, None, None),
    ("hwmon-xe", "hwmon-i915"): (None, None, None, 2),  # xe's pkg is inside its card
}


def perf_readable(t):
    """Every energy-* event of the tree opens: the software PMU, cpu-clock."""
    if os.path.exists(t.path(f"{PMU}/type")):
        t.fs("write", f"{PMU}/type", "1\n")
        for ev in glob.glob(t.path(f"{PMU}/events/energy-*")):
            if "." not in os.path.basename(ev):
                t.fs("write", os.path.relpath(ev, t.root), "event=0x00\n")


def counters(t):
    """Every energy counter file of the tree (powercap zones, hwmon energy)."""
    found = glob.glob(t.path("class/powercap/*/energy_uj"))
    found += glob.glob(t.path("class/hwmon/*/energy*_input"))
    return sorted(os.path.relpath(p, t.root) for p in found)


def run_moving_each_by_1j(case, t, prefix=()):
    steps = [f"{shlex.quote(FAKESYS)} {shlex.quote(t.root)} advance {rel} {J} 0"
             for rel in counters(t)]
    p = joules("run", "--json", "--", "sh", "-c", "; ".join(steps), root=t.root, prefix=prefix)
    try:
        return json.loads(p.stderr[p.stderr.index("{"):])
    except ValueError:
        case.check(False, f"no JSON from run; rc {p.returncode}: {p.stderr!r}")
        return {}


def near(case, got, want, what):
    if want == "perf":  # measured by the software PMU: some time, not a known energy
        return case.check(got is not None and got > 0, f"{what}: got {got!r}, want > 0")
    if want is None:
        return case.check(got is None, f"{what}: got {got!r}, want none")
    return case.check(got is not None and abs(got - want) < 1e-6,
                      f"{what}: got {got!r} J, want {want} J")


@test
def every_domain_counted_once_with_every_source_readable(case):
    need_root()
    for layouts, (cpu, dram, platform, gpu) in LAYOUTS.items():
        with Tree(*layouts) as t:
            perf_readable(t)
            doc = run_moving_each_by_1j(case, t)
        name = "+".join(layouts)
        tot = doc.get("totals", {})
        near(case, tot.get("cpu_j"), cpu, f"{name}: total cpu")
        near(case, tot.get("dram_j"), dram, f"{name}: total dram")
        near(case, tot.get("platform_j"), platform, f"{name}: total platform")
        near(case, tot.get("gpu_j"), gpu, f"{name}: total gpu")
        ids = [s["id"] for s in doc.get("sensors", [])]
        case.eq(len(ids), len(set(ids)), f"{name}: ids unique")
        domains = [(s["kind"], s["device"]) for s in doc.get("sensors", [])
                   if s["kind"] in ("cpu-package", "dram", "platform")]
        case.eq(len(domains), len(set(domains)), f"{name}: one sensor per domain: {domains}")


@test
def every_rig_layout_lists_each_domain_once(case):
    """Every layout of the rig, as `joules list` shows it: unique ids, one
    sensor per CPU domain (kind and socket/die), every RAPL core in a package."""
    import subprocess
    names = subprocess.run([FAKESYS, "layouts"], capture_output=True, text=True,
                           check=True).stdout.split()
    case.check(len(names) >= 20, f"layouts: {names}")
    for name in names:
        with Tree(name) as t:
            p = joules("list", "--json", root=t.root)
        if not case.eq(p.returncode, 0, f"{name}: list exit status; {p.stderr}"):
            continue
        sensors = json.loads(p.stdout)["sensors"]
        ids = [s["id"] for s in sensors]
        case.eq(len(ids), len(set(ids)), f"{name}: ids unique")
        cpu = [(s["kind"], s["device"]) for s in sensors
               if s["kind"] in ("cpu-package", "dram", "platform") and "#" not in s["id"]]
        case.eq(len(cpu), len(set(cpu)), f"{name}: one sensor per CPU domain: {cpu}")
        for s in sensors:
            if s["kind"] in ("cpu-core", "uncore") and s["device"].startswith("socket"):
                sock = s["device"].split()[1]
                has_pkg = any(x["kind"] == "cpu-package" and x["device"].split()[1:2] == [sock]
                              for x in sensors if x["device"].startswith("socket"))
                case.check(not has_pkg or s["parent"] is not None,
                           f"{name}: {s['id']} on {s['device']} is in no package")


@test
def vangogh_soc_power_counted_once(case):
    """slowPPT and fastPPT are one SoC power (5.03 W): the total is it, once."""
    with Tree("vangogh") as t:
        p = joules("run", "--json", "--", "sleep", "0.5", root=t.root)
    doc = json.loads(p.stderr[p.stderr.index("{"):])
    want = 5.03 * doc["duration_s"]
    gpu = doc["totals"]["gpu_j"]
    case.check(gpu is not None and abs(gpu - want) <= 0.1 * want,
               f"total gpu {gpu} J, want {want:.3f} J (5.03 W x {doc['duration_s']} s)")
    counted = [s["id"] for s in doc["sensors"] if s.get("counted_in") == "gpu"]
    case.eq(counted, ["hwmon:amdgpu:0000:04:00.0:slowPPT"], "counted")


@test
def perf_is_the_reader_when_powercap_is_not_there(case):
    """The same domains through perf alone: one sensor each, on the right socket."""
    need_root()
    with Tree("psys-between") as t:
        perf_readable(t)
        for z in glob.glob(t.path("class/powercap/intel-rapl:*")):
            os.rename(z, z.replace("intel-rapl:", "gone-"))
        p = joules("list", "--json", root=t.root)
    s = {x["id"]: x for x in json.loads(p.stdout)["sensors"]}
    for sid, dev in (("rapl:package-1", "socket 1"), ("rapl:dram-1", "socket 1"),
                     ("rapl:psys", "")):
        got = s.get(sid, {})
        case.eq((got.get("source"), got.get("device")), ("perf", dev), sid)


@test
def amd_user_without_powercap_gets_packages_from_amd_energy(case):
    """powercap root-only (0400), amd_energy world-readable: as nobody, one
    package sensor per socket, read through hwmon, counted once."""
    need_root()
    if not os.access(JOULES, os.X_OK):
        raise Skip("no joules binary")
    with Tree("amd-2s", "hwmon-amd-energy") as t:
        for rel in counters(t):
            # amd_energy world-readable (writable too, so that the command run as
            # nobody can move it); powercap root-only.
            t.fs("chmod", rel, "400" if rel.startswith("class/powercap") else "666")
        p = joules("list", "--json", root=t.root, prefix=AS_NOBODY)
        if p.returncode != 0 and "nobody" in p.stderr:
            raise Skip(p.stderr)
        s = {x["id"]: x for x in json.loads(p.stdout)["sensors"]}
        for k in (0, 1):
            got = s.get(f"rapl:package-{k}", {})
            case.eq((got.get("source"), got.get("readable"), got.get("device")),
                    ("hwmon", True, f"socket {k}"), f"package-{k}")
            case.eq(got.get("also_available"), "powercap (unreadable)", f"package-{k} also")
        pkgs = [x for x in s.values() if x["kind"] == "cpu-package"]
        case.eq(len(pkgs), 2, "package sensors")
        doc = run_moving_each_by_1j(case, t, prefix=AS_NOBODY)
    near(case, doc.get("totals", {}).get("cpu_j"), 2, "total cpu as nobody")


if __name__ == "__main__":
    main()
