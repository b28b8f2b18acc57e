#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`joules plot`: the PNG decoded here (zlib + struct, no imaging library)
and checked for its size and for the stacked band, the lines and the
shaded mark where the trace puts them; the SVG parsed as XML; bad traces
and destinations fail with the line or file and the reason."""
import os
import struct
import xml.etree.ElementTree as ET
import zlib

from clitest import joules, main, test
from runtest import ZONE, Tree, advance, scratch, script

# The figure's frame (cli/plot_draw.c): plot area inside these margins.
LEFT, RIGHT, TOP, BOTTOM = 80, 250, 64, 56


def write_trace(path, seconds=10.0, step=0.5):
    """package-0 10 W and dram-0 5 W (stacked), core-0 4 W inside the
    package (a line), psys 20 W (its own total, a line)."""
    with open(path, "w") as f:
        f.write("time_s,sensor,watts,joules,total\n")
        n = int(seconds / step)
        for k in range(1, n + 1):
            t = k * step
            for sid, w, total in (("rapl:package-0", 10, "cpu"), ("rapl:psys", 20, "platform"),
                                  ("rapl:core-0", 4, ""), ("rapl:dram-0", 5, "dram")):
                f.write(f"{t:.6f},{sid},{w:.6f},{w * t:.6f},{total}\n")


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB/RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, f"IHDR {ihdr}"
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def blend(rgb, alpha):
    """A colour at `alpha` over white, as 8-bit."""
    return tuple(round(255 * (1 - alpha * (1 - c))) for c in rgb)


def close(px, want, tol=3):
    return all(abs(a - b) <= tol for a, b in zip(px, want))


PACKAGE_BAND = blend((0.122, 0.467, 0.706), 0.55)  # first series of the palette, stacked
MARK = blend((0.95, 0.80, 0.20), 0.25)


def px_of(width, height, t, w, t_max=10.0, w_max=25.0):
    """Where (t s, w W) lands: x axis 0..t_max, y axis 0..w_max."""
    x = LEFT + t / t_max * (width - RIGHT - LEFT)
    y = (height - BOTTOM) - w / w_max * (height - BOTTOM - TOP)
    return round(x), round(y)


@test
def png_has_its_size_and_the_series_where_the_trace_puts_them(case):
    with scratch() as d:
        trace, png = os.path.join(d, "t.csv"), os.path.join(d, "p.png")
        write_trace(trace)
        p = joules("plot", trace, "-o", png, "--mark", "2:4:warm-up")
        case.eq(p.returncode, 0, f"exit status; stderr {p.stderr}")
        width, height, rows = read_png(png)
    case.eq((width, height), (1000, 600), "IHDR size")
    ink = sum(px != (255, 255, 255) for row in rows for px in row)
    case.check(ink > width * height // 20, f"drawn pixels: {ink}")
    # y axis: 20 W of psys × 1.05 rounds up to 25 W; x axis 0..10 s.
    x, y = px_of(width, height, 5.5, 3)
    case.check(close(rows[y][x], PACKAGE_BAND), f"package band at 5.5 s, 3 W: {rows[y][x]}")
    x, y = px_of(width, height, 5.5, 12.5)
    case.check(not close(rows[y][x], PACKAGE_BAND) and rows[y][x] != (255, 255, 255),
               f"dram stacked above the package at 12.5 W: {rows[y][x]}")
    x, y = px_of(width, height, 5.5, 17.5)
    case.eq(rows[y][x], (255, 255, 255), "nothing between the stack (15 W) and psys (20 W)")
    x, y = px_of(width, height, 5.5, 20)
    case.check(any(rows[y + dy][x][0] > 200 and rows[y + dy][x][2] < 100 for dy in (-1, 0, 1)),
               f"the psys line (orange) at 20 W: {[rows[y + dy][x] for dy in (-1, 0, 1)]}")
    x, y = px_of(width, height, 3.5, 23)
    case.check(close(rows[y][x], MARK), f"the mark shaded at 3.5 s: {rows[y][x]}")
    x, y = px_of(width, height, 6.5, 23)
    case.eq(rows[y][x], (255, 255, 255), "no shade outside the mark")


@test
def size_option(case):
    with scratch() as d:
        trace, png = os.path.join(d, "t.csv"), os.path.join(d, "p.png")
        write_trace(trace)
        p = joules("plot", trace, "-o", png, "--size", "800x500")
        case.eq(p.returncode, 0, "exit status")
        width, height, rows = read_png(png)
    case.eq((width, height), (800, 500), "IHDR size")
    x, y = px_of(width, height, 5.5, 3)
    case.check(close(rows[y][x], PACKAGE_BAND), f"package band: {rows[y][x]}")


@test
def svg_is_xml_with_the_drawing(case):
    with scratch() as d:
        trace, svg = os.path.join(d, "t.csv"), os.path.join(d, "p.svg")
        write_trace(trace)
        p = joules("plot", trace, "-o", svg, "--title", "My run")
        case.eq(p.returncode, 0, f"exit status; stderr {p.stderr}")
        root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    case.eq(root.tag, ns + "svg", "root element")
    case.eq(root.get("width", "").rstrip("pt"), "1000", "width")
    case.eq(root.get("height", "").rstrip("pt"), "600", "height")
    paths = root.iter(ns + "path")
    case.check(sum(1 for _ in paths) > 20, "the figure's paths")
    glyphs = [e for e in root.iter() if e.tag == ns + "use"]
    case.check(len(glyphs) > 50, f"text drawn as glyphs: {len(glyphs)}")


@test
def a_recorded_trace_plots(case):
    with Tree("intel-2s") as t, scratch() as d:
        trace, png = os.path.join(d, "t.csv"), os.path.join(d, "p.png")
        steps = [advance(t, ZONE["rapl:package-0"], 100000) for _ in range(4)]
        joules("record", "-o", trace, "-i", "20", "--", *script(*steps), root=t.root)
        p = joules("plot", trace, "-o", png)
        case.eq(p.returncode, 0, f"exit status; stderr {p.stderr}")
        width, height, rows = read_png(png)
    case.eq((width, height), (1000, 600), "size")
    case.check(any(close(px, PACKAGE_BAND) for row in rows for px in row), "the package band")


@test
def bad_traces_and_destinations_fail_with_line_and_reason(case):
    with scratch() as d:
        good, bad = os.path.join(d, "t.csv"), os.path.join(d, "bad.csv")
        write_trace(good)
        for content, part in (("a,b,c\n", "bad.csv:1: the header is not time_s,sensor,watts,joules"),
                              ("time_s,sensor,watts,joules\n0.1,x,1,1\nzero,x,1,1\n",
                               "bad.csv:3: expected time_s,sensor,watts,joules"),
                              ("time_s,sensor,watts,joules\n", "bad.csv: no samples"),
                              ("time_s,sensor,watts,joules\n0.1,\"x,1,1\n", "bad.csv:2: unbalanced")):
            with open(bad, "w") as f:
                f.write(content)
            p = joules("plot", bad, "-o", os.path.join(d, "x.png"))
            case.eq(p.returncode, 1, f"{content!r}")
            case.has(p.stderr, part, f"{content!r} message")
        p = joules("plot", os.path.join(d, "none.csv"), "-o", os.path.join(d, "x.png"))
        case.eq(p.returncode, 1, "missing trace")
        case.has(p.stderr, "none.csv: No such file or directory", "message")
        for ext in ("png", "svg"):
            out = os.path.join(d, "no", f"x.{ext}")
            p = joules("plot", good, "-o", out)
            case.eq(p.returncode, 1, f"unwritable .{ext}")
            case.has(p.stderr, f"cannot write {out}", f".{ext} message")


@test
def times_of_any_finite_magnitude_get_ticks(case):
    with scratch() as d:
        trace, png = os.path.join(d, "t.csv"), os.path.join(d, "p.png")
        for times in (("-1e16", "-9999999999999998"), ("1e300", "1.0000000000000001e300"),
                      ("-1.7e308", "1.7e308"), ("0", "5e-324"), ("1e-300", "2e-300"),
                      ("3", "3")):
            with open(trace, "w") as f:
                f.write("time_s,sensor,watts,joules,total\n")
                for t in times:
                    f.write(f"{t},a,5,1,cpu\n{t},b,1e308,1,cpu\n")
            p = joules("plot", trace, "-o", png)
            case.eq(p.returncode, 0, f"times {times}: {p.stderr}")
            case.check(os.path.getsize(png) > 1000, f"times {times}: a figure")


@test
def numbers_that_are_not_finite_are_refused_with_the_line(case):
    with scratch() as d:
        trace, png = os.path.join(d, "t.csv"), os.path.join(d, "p.png")
        for row, part in (("nan,a,5,1,cpu", "t.csv:3: time_s 'nan' is not a finite number"),
                          ("inf,a,5,1,cpu", "t.csv:3: time_s 'inf' is not a finite number"),
                          ("1e999,a,5,1,cpu", "t.csv:3: time_s '1e999' is not a finite number"),
                          ("0.2,a,-inf,1,cpu", "t.csv:3: watts '-inf' is not a finite number"),
                          ("0.2,a,5,NaN,cpu", "t.csv:3: joules 'NaN' is not a finite number"),
                          ("0.2,a,5W,1,cpu", "t.csv:3: expected time_s,sensor,watts,joules")):
            with open(trace, "w") as f:
                f.write(f"time_s,sensor,watts,joules,total\n0.1,a,5,1,cpu\n{row}\n")
            p = joules("plot", trace, "-o", png)
            case.eq(p.returncode, 1, row)
            case.has(p.stderr, part, f"{row}: message")


def plot_area(path):
    """The pixels of the plot area of a 1000x600 PNG (the legend left out)."""
    width, height, rows = read_png(path)
    return [row[LEFT:width - RIGHT] for row in rows[TOP:height - BOTTOM]]


@test
def ids_of_any_length_are_one_series_each(case):
    """The same trace under ids of 10 bytes and of 70, 300 and 100000: the
    same figure (legend aside), so each id is one series whatever its length."""
    with scratch() as d:
        trace, png = os.path.join(d, "t.csv"), os.path.join(d, "p.png")
        areas = {}
        for n in (10, 70, 300, 100000):
            with open(trace, "w") as f:
                f.write("time_s,sensor,watts,joules,total\n")
                for k in range(1, 201):
                    for sid, w, total in (("rapl:" + "p" * n, 10, "cpu"), ("rapl:" + "d" * n, 4, "dram"),
                                          ("rapl:" + "c" * n, 3, "")):
                        f.write(f"{k * 0.05:.6f},{sid},{w + k % 3},{k * w * 0.05:.6f},{total}\n")
            p = joules("plot", trace, "-o", png)
            case.eq(p.returncode, 0, f"{n}-byte ids: {p.stderr}")
            areas[n] = plot_area(png)
        for n in (70, 300, 100000):
            case.check(areas[n] == areas[10], f"{n}-byte ids draw what 10-byte ids draw")


@test
def many_rows_are_drawn_per_pixel_column(case):
    """100000 samples a sensor, the power alternating from one to the next:
    the stacked package (2 W / 8 W) is drawn at its mean, 5 W; the psys line
    (12 W / 18 W) covers 12..18 W in every pixel column (its envelope)."""
    with scratch() as d:
        trace, png = os.path.join(d, "t.csv"), os.path.join(d, "p.png")
        with open(trace, "w") as f:
            f.write("time_s,sensor,watts,joules,total\n")
            for k in range(1, 100001):
                t, odd = k * 1e-4, k % 2
                f.write(f"{t:.4f},rapl:package-0,{2 if odd else 8},{t * 5:.4f},cpu\n"
                        f"{t:.4f},rapl:psys,{12 if odd else 18},{t * 15:.4f},platform\n")
        p = joules("plot", trace, "-o", png)
        case.eq(p.returncode, 0, f"exit status; stderr {p.stderr}")
        width, height, rows = read_png(png)
    # y axis: 18 W × 1.05 rounds up to 20 W; x axis 0..10 s.
    orange = (255, 127, 14)
    for t in (2.5, 5.5, 8.5):
        at = {w: rows[px_of(width, height, t, w, w_max=20.0)[1]][px_of(width, height, t, w)[0]]
              for w in (4, 6, 11, 13, 15, 17, 19)}
        case.check(close(at[4], PACKAGE_BAND), f"{t} s: the package band up to its mean: {at}")
        case.eq(at[6], (255, 255, 255), f"{t} s: and not above it")
        case.check(all(close(at[w], orange) for w in (13, 15, 17)), f"{t} s: the psys envelope {at}")
        case.check(at[11] == at[19] == (255, 255, 255), f"{t} s: nothing outside it {at}")


@test
def usage_errors_and_help(case):
    for args, part in ((["plot", "t.csv"], "-o FILE.png or -o FILE.svg"),
                       (["plot", "t.csv", "-o", "x.jpg"], "-o FILE.png"),
                       (["plot", "-o", "x.png"], "no trace"),
                       (["plot", "t.csv", "-o", "x.png", "--mark", "4:2"], "--mark '4:2'"),
                       (["plot", "t.csv", "-o", "x.png", "--size", "10x10"], "--size '10x10'")):
        p = joules(*args)
        case.eq(p.returncode, 2, f"{args}")
        case.has(p.stderr, part, f"{args} message")
    p = joules("plot", "--help")
    case.eq(p.returncode, 0, "--help")
    for part in ("-o, --output", "--mark START:END[:LABEL]", ".svg", "stacked", "--size WxH"):
        case.has(p.stdout, part, "--help")


if __name__ == "__main__":
    main()
