#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cost of `joules plot` on a long trace: ROWS time rows of 4 sensors
(4 x ROWS lines of a `joules record` trace), its wall time against awk
summing one column of the same file (the least a tool does that reads
every row), and its peak RSS (getrusage of the child, via wait4) against
plotting 1000 rows (what the figure costs whatever the trace). Medians of
REPEATS runs; prints bench/report.h lines for bench/run; asserts nothing.
Usage: plot.py JOULES ROWS [REPEATS]"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

SENSORS = (("rapl:package-0", 10.0, "cpu"), ("rapl:psys", 20.0, "platform"),
           ("rapl:core-0", 4.0, ""), ("rapl:dram-0", 5.0, "dram"))


def write_trace(path: str, rows: int) -> None:
    """A 10 ms trace of the 4 sensors, power varying a little per row."""
    with open(path, "w") as f:
        f.write("time_s,sensor,watts,joules,total\n")
        chunk = []
        for k in range(1, rows + 1):
            t = k * 0.01
            wobble = (k % 100) * 0.01
            for sid, w, total in SENSORS:
                chunk.append(f"{t:.6f},{sid},{w + wobble:.6f},{w * t:.6f},{total}\n")
            if len(chunk) >= 40000:
                f.write("".join(chunk))
                chunk.clear()
        f.write("".join(chunk))


def run(argv) -> tuple:
    """(wall s, peak RSS KiB) of one child; raises if it fails."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {err.strip()}")
    return wall, ru.ru_maxrss


def row(name, value, unit, floor_label, floor, target=""):
    print(f"BENCH\t{name}\t{value:.6g}\t{unit}\t{floor_label}\t{floor:.6g}\t{target}",
          flush=True)


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    joules, rows = sys.argv[1], int(sys.argv[2])
    repeats = int(sys.argv[3]) if len(sys.argv) == 4 else 3
    with tempfile.TemporaryDirectory(prefix="joules-bench-plot-") as d:
        big, small = os.path.join(d, "big.csv"), os.path.join(d, "small.csv")
        t0 = time.perf_counter()
        write_trace(big, rows)
        write_trace(small, 1000)
        print(f"plot: wrote {rows} rows x {len(SENSORS)} sensors "
              f"({os.path.getsize(big) / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f} s",
              flush=True)
        out = os.path.join(d, "out.png")
        awk, plot, rss, rss_small = [], [], [], []
        for _ in range(repeats):
            awk.append(run(["awk", "-F,", "{s += $3} END {print s}", big])[0])
            wall, peak = run([joules, "plot", big, "-o", out])
            plot.append(wall)
            rss.append(peak)
            rss_small.append(run([joules, "plot", small, "-o", out])[1])
        label = f"joules plot, {rows} rows x {len(SENSORS)} sensors"
        row(f"{label}: time", statistics.median(plot), "s",
            "awk summing one column of the same file", statistics.median(awk))
        row(f"{label}: peak RSS", statistics.median(rss) / 1024, "MiB",
            "peak RSS plotting 1000 rows", statistics.median(rss_small) / 1024)
    return 0


if __name__ == "__main__":
    sys.exit(main())
