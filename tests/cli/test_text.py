#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Text from outside, whatever its bytes: names and ids cut to fit are cut
between characters (list --json, run --json/--csv and the trace stay valid
UTF-8), control characters never reach a terminal or a CSV raw, ids with
commas and quotes are quoted by the one CSV writer, and plot takes any
valid UTF-8 but names the input file and line for anything else."""
import csv
import io
import json
import os
import subprocess

from clitest import JOULES, WRAPPER, joules, main, test
from runtest import Tree, scratch

CONTROL = set(range(0x20)) - {0x0a} | {0x7f}


def zone(t, zone_dir, name_bytes, energy_uj=1000):
    """A powercap zone whose `name` file holds exactly these bytes."""
    d = t.path(f"class/powercap/{zone_dir}")
    os.makedirs(d, exist_ok=True)
    for f, data in (("name", name_bytes), ("energy_uj", b"%d\n" % energy_uj),
                    ("max_energy_range_uj", b"262143328850\n"), ("enabled", b"1\n")):
        with open(os.path.join(d, f), "wb") as fh:
            fh.write(data)


def run_bytes(*args, root):
    """joules with stdout and stderr as bytes, to see exactly what it wrote."""
    env = dict(os.environ, JOULES_SYSFS_ROOT=root)
    return subprocess.run([*WRAPPER, JOULES, *args], env=env, capture_output=True, timeout=300)


def utf8(case, data, what):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        case.check(False, f"{what} is not UTF-8: {e}")
        return ""


def every_output(case, t, d):
    """list --json, run --json, run --csv and a record trace: each decoded."""
    out = {}
    p = run_bytes("list", "--json", root=t.root)
    case.eq(p.returncode, 0, f"list --json: {p.stderr!r}")
    out["list"] = json.loads(utf8(case, p.stdout, "list --json") or "{}")
    for fmt in ("json", "csv"):
        path = os.path.join(d, f"r.{fmt}")
        p = run_bytes("run", f"--{fmt}", "-o", path, "--", "true", root=t.root)
        case.eq(p.returncode, 0, f"run --{fmt}: {p.stderr!r}")
        with open(path, "rb") as f:
            out[fmt] = utf8(case, f.read(), f"run --{fmt}")
    trace = os.path.join(d, "t.csv")
    p = run_bytes("record", "-o", trace, "-i", "20", "--", "sleep", "0.1", root=t.root)
    case.eq(p.returncode, 0, f"record: {p.stderr!r}")
    with open(trace, "rb") as f:
        out["trace"] = utf8(case, f.read(), "the trace")
    return out


@test
def ids_and_names_cut_to_fit_are_cut_between_characters(case):
    # 20 x "€" (60 bytes): the id "rapl:" + name does not fit 63 bytes;
    # 40 x "é" (80 bytes): the name itself does not.
    for name in ("€" * 20, "é" * 40, "a" + "語" * 30):
        with Tree() as t, scratch() as d:
            zone(t, "intel-rapl:0", name.encode())
            out = every_output(case, t, d)
        sensors = out["list"].get("sensors", [])
        case.eq(len(sensors), 1, f"{name[:3]}: one sensor")
        if not sensors:
            continue
        sid, sname = sensors[0]["id"], sensors[0]["name"]
        case.check(sid.startswith("rapl:") and name.startswith(sid[5:]) and len(sid.encode()) <= 63,
                   f"id {sid!r}: a prefix of whole characters that fits")
        case.check(name.startswith(sname) and len(sname.encode()) <= 63,
                   f"name {sname!r}: a prefix of whole characters that fits")
        run = json.loads(out["json"] or "{}")
        case.eq([s["id"] for s in run.get("sensors", [])], [sid], "run --json has the same id")
        rows = list(csv.reader(io.StringIO(out["csv"])))
        case.eq(rows[1][0] if len(rows) > 1 else None, sid, "run --csv has the same id")
        ids = {r[1] for r in csv.reader(io.StringIO(out["trace"])) if r and r[0] != "time_s"}
        case.eq(ids, {sid}, "the trace has the same id")


@test
def bytes_that_are_not_utf8_never_reach_the_output(case):
    with Tree() as t, scratch() as d:
        zone(t, "intel-rapl:0", b"caf\xe9-\xff\xfepkg")
        out = every_output(case, t, d)
    sensors = out["list"].get("sensors", [])
    case.eq([s["name"] for s in sensors], ["caf-pkg"], "the stray bytes are dropped")


def raw_controls(data):
    """The C0 controls but newline, DEL, and the C1 controls (UTF-8 C2 80-9F) in data."""
    c1 = [data[i:i + 2] for i in range(len(data) - 1) if data[i] == 0xc2 and 0x80 <= data[i + 1] <= 0x9f]
    return sorted({bytes([b]) for b in data if b in CONTROL} | set(c1))


@test
def control_characters_are_escaped_on_terminals_and_in_csv(case):
    name = b"pkg\x1b[31mred\x07\ttab\x7f\xc2\x9bz"
    with Tree() as t, scratch() as d:
        zone(t, "intel-rapl:0", name)
        table = run_bytes("list", root=t.root)
        listed = run_bytes("list", "--json", root=t.root)
        report = run_bytes("run", "--", "true", root=t.root)
        out = every_output(case, t, d)
    for what, data in (("list", table.stdout), ("run's report", report.stderr),
                       ("list --json", listed.stdout), ("run --json", out["json"].encode()),
                       ("run --csv", out["csv"].encode()), ("the trace", out["trace"].encode())):
        case.eq(raw_controls(data), [], f"{what}: raw control characters")
    shown = "pkg\\x1b[31mred\\x07\\x09tab\\x7f\\x9bz"
    case.has(table.stdout.decode(), shown, "list shows them escaped")
    case.has(report.stderr.decode(), "rapl:" + shown, "run shows them escaped")
    # JSON escapes them its own way: the value is the name itself.
    case.eq([s["name"] for s in out["list"].get("sensors", [])], [name.decode()],
            "list --json gives the name as it is")
    case.eq([s["name"] for s in json.loads(out["json"] or "{}").get("sensors", [])],
            [name.decode()], "run --json too")


@test
def record_quotes_ids_with_commas_and_quotes_and_plot_reads_them(case):
    name = 'pkg,"0",x'
    with Tree() as t, scratch() as d:
        zone(t, "intel-rapl:0", name.encode())
        traces = {}
        for cols, args in ((5, []), (11, ["--wide"])):
            trace = os.path.join(d, f"t{cols}.csv")
            p = joules("record", *args, "-o", trace, "-i", "20", "--", "sleep", "0.1",
                       root=t.root)
            case.eq(p.returncode, 0, f"record {args}: {p.stderr}")
            with open(trace, newline="") as f:
                traces[cols] = list(csv.reader(f))
        csvp = joules("run", "--csv", "--", "true", root=t.root)
        plot = joules("plot", os.path.join(d, "t5.csv"), "-o", os.path.join(d, "p.png"))
    for cols, rows in traces.items():
        case.check(len(rows) > 2, f"rows: {rows}")
        case.eq({len(r) for r in rows}, {cols}, f"every row has {cols} fields")
        case.eq({r[1] for r in rows[1:]}, {"rapl:" + name}, "the id read back whole")
    case.eq({r[7] for r in traces[11][1:]}, {name}, "the name too")
    report = list(csv.reader(io.StringIO(csvp.stderr)))
    case.eq(report[1][:2] if len(report) > 1 else None, ["rapl:" + name, name],
            "run --csv: id and name read back whole")
    case.eq(plot.returncode, 0, f"plot reads it: {plot.stderr}")


@test
def plot_takes_any_utf8_and_names_the_input_when_it_is_not(case):
    with scratch() as d:
        good, bad, png = (os.path.join(d, n) for n in ("good.csv", "bad.csv", "p.png"))
        with open(good, "w", encoding="utf-8") as f:
            f.write("\ufefftime_s,sensor,watts,joules,total\n")  # with a byte order mark
            for k in range(1, 20):
                for sid in ("rapl:€" * 20, "gpu:語\x1b[2J", "\U0001F600"):
                    f.write(f'{k / 10},"{sid}",5,{k / 2},cpu\n')
        p = joules("plot", good, "-o", png, "--title", "t\x1b[2J€")
        case.eq(p.returncode, 0, f"valid UTF-8 plots: {p.stderr}")
        for body, col in ((b"0.1,caf\xe9,5,1,cpu\n", 8), (b"0.1,x\xed\xa0\x80,5,1,cpu\n", 6),
                          (b"0.1,x,5,1,cpu\xe2\x82\n", 14)):
            with open(bad, "wb") as f:
                f.write(b"time_s,sensor,watts,joules,total\n0.05,x,5,1,cpu\n" + body)
            p = joules("plot", bad, "-o", png)
            case.eq(p.returncode, 1, f"{body!r}")
            case.has(p.stderr, "bad.csv:3: not UTF-8", f"{body!r}: names the input and line")
            case.has(p.stderr, f"column {col}", f"{body!r}: and the column")
            case.check(png not in p.stderr, f"{body!r}: not the output: {p.stderr}")


if __name__ == "__main__":
    main()
