#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Region errors at GPU load edges, from one tools/device_edges.sh recording.

Usage: edges_analyze.py DIR NVML_REPLAY [POLL_MS ...]

DIR holds edges.json, counter.csv and samples.csv. NVML_REPLAY is
tools/nvml_replay.c built here: the recording is replayed through joules'
estimator with the counter polled every POLL_MS (default 100), edges as
steps and, for comparison, flat.

The reference, per burst (marks: see tools/device_edges.py):
- idle to idle, [pre, post+160]: the energy counter, whose steps are placed
  to ±2 ms by polling it back to back, linear between steps (the power is
  flat there);
- an edge end: the same less the energy outside the region, from the 20 ms
  samples. The window that holds the edge is split where the load is known
  to start or stop (the readings' moments): before a start it is at the
  previous window's (idle) power, and until a stop at the previous window's
  (load) power, the rest of the window's energy after it;
- steady, [mid, mid]: the counter, between its steps shaped by the samples.
Prints errors per region kind and length, and the uncertainty's coverage
and width under the model in lib/backends/nvml (the replay's unc column).
"""
import bisect
import csv
import json
import statistics
import subprocess
import sys
from collections import defaultdict

DIR, REPLAY = sys.argv[1], sys.argv[2]
POLLS = [int(x) for x in sys.argv[3:]] or [100]


def rows(name):
    with open(f"{DIR}/{name}") as f:
        return list(csv.DictReader(f))


# Counter steps on the monotonic clock.
c = [(int(r["mono_a_ns"]), int(r["mono_b_ns"]), int(r["energy_mj"])) for r in rows("counter.csv")
     if r["rc"] == "0"]
steps = [(((c[i - 1][0] + c[i - 1][1]) / 2 + (c[i][0] + c[i][1]) / 2) / 2, c[i][2] / 1e3)
         for i in range(1, len(c)) if c[i][2] != c[i - 1][2]]
step_t = [t for t, _ in steps]

# Sample windows: (start, end, watts) on the monotonic clock.
seen = set()
pts = []
for r in rows("samples.csv"):
    off = int(r["real_b_ns"]) - int(r["mono_b_ns"])
    us = int(r["ts_us"])
    if us not in seen:
        seen.add(us)
        pts.append((us * 1000 - off, int(r["power_mw"]) / 1e3))
pts.sort()
win_end = [t for t, _ in pts]
win = [(pts[k - 1][0], pts[k][0], pts[k][1]) for k in range(1, len(pts))]


def counter_at(t):
    k = bisect.bisect_right(step_t, t)
    (ta, ea), (tb, eb) = steps[k - 1], steps[k]
    return ea + (eb - ea) * (t - ta) / (tb - ta)


def window_of(t):
    k = bisect.bisect_left(win_end, t)  # window k-1 ends at win_end[k] >= t
    return k - 1


def samples_between(a, b):
    """Sample energy over [a, b], flat within windows."""
    e = 0.0
    for s, t, w in win[window_of(a):window_of(b) + 1]:
        lo, hi = max(s, a), min(t, b)
        if hi > lo:
            e += w * (hi - lo) / 1e9
    return e


def before_start(pre, start):
    """Energy over [pre, start]: idle; the start's window at the previous window's power."""
    k = window_of(start)
    s, _, _ = win[k]
    return samples_between(pre, s) + win[k - 1][2] * (start - s) / 1e9


def after_stop(stop, end):
    """Energy over [stop, end]: the stop's window less the load's power until the stop."""
    k = window_of(stop)
    s, t, w = win[k]
    rest = max(0.0, w * (t - s) / 1e9 - win[k - 1][2] * (stop - s) / 1e9)
    return rest + samples_between(t, end)


def shaped_counter_at(t):
    """Under load: the counter's steps, and between two the samples' shape."""
    k = bisect.bisect_right(step_t, t)
    (ta, ea), (tb, eb) = steps[k - 1], steps[k]
    return ea + (eb - ea) * samples_between(ta, t) / samples_between(ta, tb)


data = json.load(open(f"{DIR}/edges.json"))
bursts = defaultdict(dict)
mids = defaultdict(list)
for r in data["readings"]:
    if r["burst"] < 0 or r["status"]:
        continue
    if r["mark"] == "mid":
        mids[r["burst"]].append(r)
    else:
        bursts[r["burst"]][r["mark"]] = r

# Regions: (kind, burst seconds, load, t0 reading, t1 reading, reference J).
regions = []
for b, m in bursts.items():
    need = ("pre", "start", "stop", "post+160")
    if not all(k in m for k in need):
        continue
    pre, start, stop, post = (m[k]["time_ns"] for k in need)
    try:
        clean = counter_at(post) - counter_at(pre)
        fpre = before_start(pre, start)
        fpost = after_stop(stop, post)
    except (IndexError, ZeroDivisionError):
        continue
    sec, load = m["pre"]["seconds"], m["pre"]["load"]
    regions.append(("idle-idle", sec, load, m["pre"], m["post+160"], clean))
    regions.append(("start-stop", sec, load, m["start"], m["stop"], clean - fpre - fpost))
    regions.append(("start-idle", sec, load, m["start"], m["post+160"], clean - fpre))
    regions.append(("idle-stop", sec, load, m["pre"], m["stop"], clean - fpost))
    # (10 and 20 ms after the stop, the tail's window is still split flat: not a reference.)
    for n in (40, 80):
        r = m.get(f"post+{n}")
        if r:
            regions.append((f"start-post{n}", sec, load, m["start"], r,
                            clean - fpre - samples_between(r["time_ns"], post)))
    ms = mids[b]
    for i in range(len(ms)):
        for j in range(i + 1, len(ms)):
            try:
                ref = shaped_counter_at(ms[j]["time_ns"]) - shaped_counter_at(ms[i]["time_ns"])
            except (IndexError, ZeroDivisionError):
                continue
            regions.append(("steady", round((ms[j]["time_ns"] - ms[i]["time_ns"]) / 1e9 * 4) / 4,
                            load, ms[i], ms[j], ref))

def replay(poll, flat):
    """{(t0, t1): (joules J, bound J)} for every region, as a region would get them."""
    pairs = sorted({(reg[3]["time_ns"], reg[4]["time_ns"]) for reg in regions}, key=lambda p: p[1])
    args = [REPLAY, f"{DIR}/samples.csv", f"{DIR}/counter.csv", str(poll)] + (["flat"] if flat else [])
    out = subprocess.run(args, input="\n".join(f"{a} {b}" for a, b in pairs), capture_output=True,
                         text=True, check=True).stdout
    return {(int(r["t0_ns"]), int(r["t1_ns"])): (int(r["energy_uj"]) / 1e6, int(r["bound_uj"]) / 1e6)
            for r in csv.DictReader(out.splitlines()) if r["found"] == "1"}


def table(name, value):
    """value(region) -> (joules J, bound J) or None."""
    print(f"\n== {name}")
    groups = defaultdict(list)
    for reg in regions:
        v = value(reg)
        if v is None:
            continue
        est, unc = v
        err = est - reg[5]
        groups[(reg[0], reg[1])].append((err, err / reg[5] * 100, unc))
    print(f"{'kind':<12} {'s':>5} {'n':>3}  {'err % min..max':>16}  {'err J min..max':>16}  "
          f"{'cover':>5}  {'med unc/med|err|':>8}")
    for (kind, sec), g in sorted(groups.items()):
        pe = [x[1] for x in g]
        je = [x[0] for x in g]
        cover, width = cover_width(g)
        print(f"{kind:<12} {sec:>5} {len(g):>3}  {min(pe):>7.2f}..{max(pe):>6.2f}  "
              f"{min(je):>7.2f}..{max(je):>6.2f}  {cover:>5.2f}  {width:>8.1f}")
    bands = (("<= 0.2 s", 0, 0.2), ("0.25-2 s", 0.2, 2.0), ("> 2 s", 2.0, 1e9))
    for label, lo, hi in bands + (("all", 0, 1e9),):
        g = [x for (_, sec), xs in groups.items() if lo < float(sec) <= hi for x in xs]
        if g:
            cover, width = cover_width(g)
            print(f"{label} {len(g)} regions: cover {cover:.3f}, "
                  f"median bound / median |error| {width:.1f}")


def cover_width(g):
    """(share of (error, %, bound) whose |error| <= bound, median bound / median |error|)."""
    cover = sum(abs(e) <= u for e, _, u in g) / len(g)
    med_err = statistics.median(abs(e) for e, _, _ in g) or 1e-9
    return cover, statistics.median(u for _, _, u in g) / med_err


print(f"{data['gpu']}, {data['date']}: {len(regions)} regions, {len(steps)} counter steps, "
      f"{len(win)} sample windows")
table("libjoules as run (settled readings, the ends' uncertainties only)",
      lambda reg: ((reg[4]["energy_uj"] - reg[3]["energy_uj"]) / 1e6,
                   (reg[4]["unc_uj"] + reg[3]["unc_uj"]) / 1e6))
for poll in POLLS:
    for flat in (False, True):
        rp = replay(poll, flat)
        table(f"replay, counter every {poll} ms, edges {'flat' if flat else 'as steps'}",
              lambda reg, rp=rp: rp.get((reg[3]["time_ns"], reg[4]["time_ns"])))
