#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tools/nvml_replay + tools/edges_analyze.py on a synthetic recording whose
truth is known: 100 W idle, bursts of 700 W and 400 W starting and stopping
inside 15-25 ms driver sample windows (each the exact mean power over its
window), a counter that moves every 100 ms, polled every 4 ms.

With edges as steps the estimate reads the bursts' energy (edges exact);
with flat windows it loses energy at both edges, as the H100 did: the
check that the replay and the analysis can tell the two apart.

Usage: test_edges.py NVML_REPLAY EDGES_ANALYZE"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile

REPLAY, ANALYZE = sys.argv[1], sys.argv[2]
T0, OFF = 10_000_000_000, 1_700_000_000_000_000_000


def recording(d):
    random.seed(7)
    segs, readings, t = [], [], T0 + 3e9
    for k, (sec, load, watts) in enumerate([(0.2, "bf16", 700), (1.0, "bf16", 700),
                                            (0.5, "fp32", 400)] * 4):
        pre, start = t, t + 150e6 + random.randint(0, 19) * 1e6
        stop = start + sec * 1e9
        segs.append((start, stop, watts))
        marks = [("pre", pre), ("start", start), ("stop", stop)]
        marks += [(f"post+{ms}", stop + ms * 1e6) for ms in (10, 20, 40, 80, 160)]
        for mark, at in marks:
            readings.append({"burst": k, "load": load, "seconds": sec, "mark": mark,
                             "time_ns": int(at), "energy_uj": 0, "unc_uj": 0, "status": 0,
                             "flags": 0, "first_energy_uj": 0, "first_unc_uj": 0})
        t = stop + 1.0e9
    end = t + 2e9

    def energy(x):  # J since T0
        e = 100 * (x - T0) / 1e9
        for s, f, w in segs:
            lo, hi = max(s, T0), min(f, x)
            if hi > lo:
                e += (w - 100) * (hi - lo) / 1e9
        return e
    with open(f"{d}/samples.csv", "w") as f:
        f.write("mono_b_ns,real_b_ns,ts_us,power_mw\n")
        x = T0
        while x < end:
            n = x + random.randint(15, 25) * 1_000_000
            mw = round((energy(n) - energy(x)) / ((n - x) / 1e9) * 1000)
            fetched = (n // 200_000_000 + 1) * 200_000_000
            f.write(f"{fetched},{fetched + OFF},{(n + OFF) // 1000},{mw}\n")
            x = n
    with open(f"{d}/counter.csv", "w") as f:
        f.write("mono_a_ns,mono_b_ns,real_b_ns,rc,energy_mj\n")
        x = T0
        while x < end:
            moved = (x - T0) // 100_000_000 * 100_000_000 + T0
            f.write(f"{x},{x + 3_000_000},{x + OFF},0,{int(energy(moved) * 1000)}\n")
            x += 4_000_000
    with open(f"{d}/edges.json", "w") as f:
        json.dump({"date": "synthetic", "gpu": "synthetic", "readings": readings}, f)


def errors(text, section):
    """{kind: (min J, max J)} of the start-stop and idle-stop rows in a section."""
    body = text.split(f"== {section}")[1].split("\n== ")[0]
    out = {}
    for m in re.finditer(r"^(start-stop|idle-stop|start-idle)\s+\S+\s+\d+\s+\S+\.\.\s*\S+\s+"
                         r"(\S+)\.\.\s*(\S+)", body, re.M):
        lo, hi = out.get(m.group(1), (0.0, 0.0))
        out[m.group(1)] = (min(lo, float(m.group(2))), max(hi, float(m.group(3))))
    return out


def main():
    with tempfile.TemporaryDirectory() as d:
        recording(d)
        text = subprocess.run([sys.executable, ANALYZE, d, REPLAY, "100"], capture_output=True,
                              text=True, check=True).stdout
    print("1..3")
    steps = errors(text, "replay, counter every 100 ms, edges as steps")
    flat = errors(text, "replay, counter every 100 ms, edges flat")
    print(f"# steps {steps}\n# flat {flat}")
    # (The gain's start, not the edges, moves the first bursts by up to ~1 J.)
    ok = steps and all(lo > -0.5 and hi < 1.5 for lo, hi in steps.values())
    print(("ok" if ok else "not ok") + " 1 - edges as steps: no burst loses energy at an edge")
    ok = flat.get("start-stop", (0, 0))[0] < -1.0
    print(("ok" if ok else "not ok") + " 2 - flat windows lose energy at the edges")
    m = re.search(r"counter every 100 ms, edges as steps.*?all \d+ regions: cover ([\d.]+)",
                  text, re.S)
    ok = m and float(m.group(1)) >= 0.95
    print(("ok" if ok else "not ok") + f" 3 - the bound covers the truth ({m and m.group(1)})")


main()
