#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`joules run` and `joules record` on a GPU through the fake libnvidia-ml.so.1, whose power
samples arrive late as the driver's do: the report must use settled
readings, so a power step just before the command ends is counted, and the
peak is not made of extrapolated values."""
import csv
import json
import os
import tempfile

from clitest import joules, main, test
from runtest import Tree

FAKE_NVML = os.path.join(os.environ["FAKE_NVML_DIR"], "libnvidia-ml.so.1")
LOW_W, HIGH_W = 100, 1000
LAG_S = 0.15   # samples reach joules this long after their window ends
HIGH_S = 0.10  # the command's last phase, at HIGH_W
WINDOW_S = 0.02  # one driver sample; also how late the fake sees a new config


def config(power_w):
    return (f"gpus 1\npower_mw 0 {power_w * 1000}\nlimit_mw 0 1200000\n"
            f"samples_lag_ms 0 {int(LAG_S * 1000)}\n")


def measure(tree, tmp, *args):
    """joules ARGS -- a command at LOW_W for 0.5 s, then HIGH_W for HIGH_S."""
    cfg, high = os.path.join(tmp, "nvml.conf"), os.path.join(tmp, "high.conf")
    with open(cfg, "w") as f:
        f.write(config(LOW_W))
    with open(high, "w") as f:
        f.write(config(HIGH_W))
    os.environ.update(JOULES_NVML_LIBRARY=FAKE_NVML, FAKE_NVML_CONFIG=cfg)
    # The fake re-reads its config when the file is replaced.
    cmd = f"sleep 0.5; cp {high} {cfg}.new && mv {cfg}.new {cfg}; sleep {HIGH_S}"
    return joules(*args, "--", "sh", "-c", cmd, root=tree.root)


def check_energy(case, e, d):
    """At HIGH_W for at least HIGH_S less a window (the fake's late switch)
    and less a window (where the last reading falls in its sample), and for
    at most all but the first 0.5 s."""
    low = LOW_W * d + (HIGH_W - LOW_W) * (HIGH_S - 2 * WINDOW_S)
    top = LOW_W * d + (HIGH_W - LOW_W) * (d - 0.5 + WINDOW_S)
    case.check(e is not None and low <= e <= top,
               f"GPU energy {e} J over {d:.3f} s: want {low:.1f}..{top:.1f} J "
               f"(unsettled, the last {LAG_S} s would be taken at {LOW_W} W)")


@test
def run_counts_a_power_step_at_the_end(case):
    with Tree() as tree, tempfile.TemporaryDirectory() as tmp:
        p = measure(tree, tmp, "run", "--json")
        case.eq(p.returncode, 0, f"exit status; stderr: {p.stderr}")
        doc = json.loads(p.stderr[p.stderr.index("{"):])
        gpus = [s for s in doc["sensors"] if s["kind"] == "gpu"]
        if not case.eq(len(gpus), 1, "one GPU"):
            return
        check_energy(case, gpus[0].get("energy_j"), doc["duration_s"])
        peak = gpus[0].get("peak_w")
        case.check(peak is not None and peak <= HIGH_W * 1.05,
                   f"peak {peak} W: want at most {HIGH_W * 1.05} W")


@test
def record_rows_are_settled(case):
    with Tree() as tree, tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace.csv")
        p = measure(tree, tmp, "record", "--wide", "-o", trace)
        case.eq(p.returncode, 0, f"exit status; stderr: {p.stderr}")
        with open(trace, newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["sensor"].startswith("nvml:")]
        if not case.check(len(rows) >= 3, f"GPU rows: {rows}"):
            return
        # The last row: the whole recording, the power step included.
        check_energy(case, float(rows[-1]["joules"]), float(rows[-1]["time_s"]))
        # Every row's power agrees with its energy: they come from the same
        # settled readings.
        # (A row's window is window_s long: the first one starts when the
        # first reading was taken, not at 0.)
        prev_j = 0.0
        for r in rows:
            t, j, w, dt = (float(r[k]) for k in ("time_s", "joules", "watts", "window_s"))
            case.check(abs((j - prev_j) / dt - w) <= 0.01 * HIGH_W,
                       f"row at {t} s: {w} W, but {j - prev_j} J in {dt} s")
            # No window above the fake's power. (Under load rows read up to 1142 W
            # when the fake stamped samples late after a change it saw late.)
            case.check(w <= HIGH_W * 1.01, f"row at {t} s: {w} W > {HIGH_W} W")
            prev_j = j


if __name__ == "__main__":
    main()
