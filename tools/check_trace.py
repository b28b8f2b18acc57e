#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check a `joules record` trace against what a trace promises, per sensor:

  decreasing  the cumulative joules column goes down
  mismatch    watts × the row's interval differs from its Δjoules by more
              than the printed digits allow
  empty       a row without watts or joules, and no status saying why
  window      a row's window does not start where the sensor's last row
              with energy ended (new format: time_s - window_s)

Reads both formats: five columns (time_s,sensor,watts,joules,total, what
`joules record` writes by default and all it wrote before) and the eleven
of `joules record --wide`, with window_s, status and note. Five columns do
not give a row's window: it is taken to start at the sensor's previous row,
or, after rows without watts that keep the joules (a failed read, a reset:
`joules record` said why on stderr), at any row since the last one with
watts; a sensor's first window is not checked. Nor do five columns say why
a row has no watts: such a row is reported as empty (record with --wide to
check those). Prints one line per fault and a count per sensor and kind;
exit status 1 when there is a fault, 2 when the file is not a trace.

Usage: check_trace.py TRACE.csv [--quiet]
"""
import csv
import sys
from collections import Counter, namedtuple

Fault = namedtuple("Fault", "sensor time kind text")
KINDS = ("decreasing", "mismatch", "empty", "window")


def decimals(text):
    """Digits after the point as printed: '1.250' -> 3."""
    return len(text) - text.index(".") - 1 if "." in text else 0


def ulp(text):
    return 10.0 ** -decimals(text)


class Sensor:
    def __init__(self):
        self.t = None        # time of the last row, as printed
        self.t_text = "0"
        self.j = None        # the last joules value, and its text
        self.j_text = "0"
        self.end = None      # where the next window with energy starts (new format)
        # Five columns: (time, text) of each row where its next window may start; None
        # before its first row.
        self.starts = None


def rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or header[:4] != ["time_s", "sensor", "watts", "joules"]:
            raise ValueError(f"{path}: not a joules record trace (header {header})")
        for line, fields in enumerate(reader, start=2):
            if fields:
                yield line, dict(zip(header, fields))


def check(path):
    """Every fault of the trace at path, in file order."""
    faults, sensors = [], {}
    for line, r in rows(path):
        sid, t_text = r["sensor"], r["time_s"]
        t = float(t_text)
        s = sensors.setdefault(sid, Sensor())
        w_text, j_text = r.get("watts", ""), r.get("joules", "")
        status = r.get("status", "")
        window_text = r.get("window_s", "")

        def fault(kind, text):
            faults.append(Fault(sid, t, kind, f"line {line}: {text}"))

        if (not w_text or not j_text) and status in ("", "ok"):
            fault("empty", f"no {'watts' if not w_text else 'joules'} and no status saying why")
        if j_text and s.j is not None and float(j_text) < s.j:
            fault("decreasing", f"joules {j_text} after {s.j_text} at {s.t_text} s")
        if w_text and window_text:
            start = t - float(window_text)
            if s.end is not None and abs(start - s.end) > ulp(t_text) + ulp(window_text):
                fault("window", f"starts at {start:.9f} s, the last window ended at "
                      f"{s.end:.9f} s")
        if w_text and j_text:
            w = float(w_text)
            if window_text:
                windows = [(float(window_text), ulp(window_text))]
            else:
                windows = [(t - float(start), ulp(t_text) + ulp(start))
                           for start in (s.starts or [])[::-1]]
            dj = float(j_text) - (s.j if s.j is not None else 0.0)

            def off(dt, dt_ulp):
                """w × dt - dj, or 0 within half a unit of each printed number."""
                tol = 0.5 * ulp(w_text) * dt + abs(w) * dt_ulp / (1 if window_text else 2) \
                    + ulp(j_text)
                return 0.0 if abs(w * dt - dj) <= tol else w * dt - dj

            if windows and all(off(*k) for k in windows):
                dt = windows[0][0]
                fault("mismatch", f"{w_text} W × {dt:.6f} s = {w * dt:.6f} J, but joules rose "
                      f"{dj:.6f} J (off by {w * dt - dj:+.6f} J)")
        if w_text or not j_text or s.starts is None:
            s.starts = [t_text]
        else:
            s.starts.append(t_text)
        if w_text or "reset" in status or "lost" in status:
            s.end = t
        if j_text:
            s.j, s.j_text = float(j_text), j_text
        s.t, s.t_text = t, t_text
    return faults


def summary(faults):
    """{sensor: Counter(kind: count)}."""
    out = {}
    for f in faults:
        out.setdefault(f.sensor, Counter())[f.kind] += 1
    return out


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        faults = check(argv[1])
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as e:
        print(f"check_trace: {e}", file=sys.stderr)
        return 2
    if "--quiet" not in argv:
        for f in faults:
            print(f"{f.sensor} at {f.time:.6f} s: {f.kind}: {f.text}")
    for sid, counts in summary(faults).items():
        print(f"{sid}: " + ", ".join(f"{counts[k]} {k}" for k in KINDS if counts[k]))
    print(f"{len(faults)} faults" if faults else "no faults")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
