#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The command line's contract: help and version exit 0 on stdout; a usage
error says what was wrong on stderr and exits 2."""
import re

from clitest import Case, joules, main, test


def ok_on_stdout(case, args, *words):
    p = joules(*args, root="/nonexistent")
    what = "joules " + " ".join(args)
    case.eq(p.returncode, 0, f"{what}: exit status; stderr: {p.stderr}")
    case.eq(p.stderr, "", f"{what}: stderr")
    for w in words:
        case.has(p.stdout, w, what)
    return p


def usage_error(case, args, *words):
    p = joules(*args, root="/nonexistent")
    what = "joules " + " ".join(args)
    case.eq(p.returncode, 2, f"{what}: exit status")
    case.eq(p.stdout, "", f"{what}: stdout")
    for w in words:
        case.has(p.stderr, w, f"{what}: stderr")


@test
def help(case):
    ok_on_stdout(case, ["--help"], "Usage: joules", "list", "JOULES_SYSFS_ROOT")
    ok_on_stdout(case, ["-h"], "Usage: joules")


@test
def list_help(case):
    ok_on_stdout(case, ["list", "--help"], "Usage: joules list", "--json")
    ok_on_stdout(case, ["list", "-h"], "Usage: joules list")


@test
def version(case):
    p = ok_on_stdout(case, ["--version"])
    case.check(re.fullmatch(r"joules \d+\.\d+\.\d+\n", p.stdout), f"version: {p.stdout!r}")


@test
def unknown_option(case):
    usage_error(case, ["--frobnicate"], "unknown option '--frobnicate'", "--help")
    usage_error(case, ["-z"], "unknown option", "--help")


@test
def unknown_command(case):
    usage_error(case, ["frobnicate"], "unknown command 'frobnicate'", "--help")


@test
def list_unknown_option(case):
    usage_error(case, ["list", "--frobnicate"], "joules list", "unknown option '--frobnicate'",
                "joules list --help")


@test
def list_extra_argument(case):
    usage_error(case, ["list", "extra"], "unexpected argument 'extra'")


@test
def no_command(case):
    usage_error(case, [], "Usage: joules")


if __name__ == "__main__":
    main()
