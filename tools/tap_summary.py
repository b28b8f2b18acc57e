#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Count TAP subtests over meson test logs (meson-logs/testlog*.json).

Prints "N passed, N failed" (skips on a line of their own, when any).
Every `ok` is a pass and every `not ok` a failure (`# SKIP` is a skip,
`# TODO` neither). A test that meson judged failed (a crash, a sanitizer or
valgrind error, a timeout, a short plan) but that printed no `not ok` adds
one failure, so nothing that failed can sum to zero. A test that prints no
TAP at all counts once, by its result. Exit status 1 when anything failed.
Each failed test is named on stderr with what shows why: its `not ok` lines
and the diagnostics after them, or else the last lines of its output (CI
keeps only the tail of the log, so the cause must be near the end).

--extra-failures N adds N failures found elsewhere (a build that broke).

Usage: tap_summary.py [--extra-failures N] LOG.json...
"""
import json
import re
import sys

GOOD = {"OK", "SKIP", "EXPECTEDFAIL"}
WHY_LINES = 8  # lines of diagnostics shown per failed test
LINE = re.compile(r"^(not ok|ok)\b[^#]*(#\s*(\w+))?", re.I)


def why(test):
    """The lines that say why a test failed: each `not ok` with the `#`
    lines after it, else the tail of its output."""
    lines = (test.get("stdout") or "").splitlines()
    shown, keep = [], False
    for line in lines:
        m = LINE.match(line)
        if m:
            keep = m.group(1).lower() == "not ok" and (m.group(3) or "").upper() != "TODO"
        if keep and (m or line.lstrip().startswith("#")):
            shown.append(line)
    tail = [x for x in lines + (test.get("stderr") or "").splitlines() if x.strip()]
    return (shown or tail)[-WHY_LINES:]


def count(log):
    passed = failed = skipped = 0
    with open(log, encoding="utf-8") as f:
        for raw in f:
            if not raw.strip():
                continue
            test = json.loads(raw)
            p = fl = s = 0
            for line in (test.get("stdout") or "").splitlines():
                m = LINE.match(line)
                if not m:
                    continue
                directive = (m.group(3) or "").upper()
                if directive == "SKIP":
                    s += 1
                elif directive == "TODO":
                    pass
                elif m.group(1).lower() == "ok":
                    p += 1
                else:
                    fl += 1
            bad = test["result"] not in GOOD
            if p + fl + s == 0:
                p, fl = (0, 1) if bad else (1, 0)
            elif bad and fl == 0:
                fl = 1
            if bad:
                print(f"FAILED: {test['name']} ({test['result']}) in {log}", file=sys.stderr)
                for line in why(test):
                    print(f"    {line[:300]}", file=sys.stderr)
            passed, failed, skipped = passed + p, failed + fl, skipped + s
    return passed, failed, skipped


def main():
    args = sys.argv[1:]
    totals = [0, 0, 0]
    if args[:1] == ["--extra-failures"]:
        totals[1] = int(args[1])
        args = args[2:]
    for log in args:
        for i, v in enumerate(count(log)):
            totals[i] += v
    passed, failed, skipped = totals
    if skipped:
        print(f"{skipped} skipped")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
