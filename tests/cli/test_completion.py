#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""completions/joules.bash: valid bash, and (where bash-completion is
installed) it offers the subcommands, their options, sensor ids from
`joules list` for -e, and the measured command after --."""
import os
import subprocess

from clitest import JOULES, Skip, Tree, main, test

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "completions", "joules.bash")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def complete(case, root, *words):
    """COMPREPLY for a command line whose last word is being completed."""
    line = " ".join(words)
    prog = f"""
source {BASH_COMPLETION}
source {SCRIPT}
COMP_WORDS=({' '.join(f"'{w}'" for w in words)})
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}
_joules 2>/dev/null
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = dict(os.environ, PATH=f"{os.path.dirname(JOULES)}:{os.environ['PATH']}",
               JOULES_SYSFS_ROOT=root)
    p = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, env=env)
    case.eq(p.returncode, 0, f"bash for {line!r}: {p.stderr}")
    return sorted(set(p.stdout.split()))


@test
def script_is_valid_bash(case):
    p = subprocess.run(["bash", "-n", SCRIPT], capture_output=True, text=True)
    case.eq(p.returncode, 0, f"bash -n: {p.stderr}")


@test
def completes_commands_options_sensors_and_the_command(case):
    if not os.path.exists(BASH_COMPLETION):
        raise Skip("bash-completion is not installed")
    with Tree("intel-2s") as t:
        case.eq(complete(case, t.root, "joules", "r"), ["record", "run"], "subcommands")
        case.eq(complete(case, t.root, "joules", "run", "--bas"), ["--baseline"],
                "run options")
        case.eq(complete(case, t.root, "joules", "plot", "x.csv", "--m"), ["--mark"], "plot options")
        case.eq(complete(case, t.root, "joules", "record", "-o", "t.csv", "--w"), ["--wide"],
                "record options")
        case.eq(complete(case, t.root, "joules", "run", "-e", "rapl:p"),
                ["rapl:package-0", "rapl:package-1"], "sensor ids from joules list")
        case.eq(complete(case, t.root, "joules", "run", "-e", "dram,rapl:dram-"),
                ["dram,rapl:dram-0", "dram,rapl:dram-1"], "the last item of a list")
        case.eq(complete(case, t.root, "joules", "t"), ["top"], "top")
        case.eq(complete(case, t.root, "joules", "top", "--s"), ["--sort"], "top options")
        case.eq(complete(case, t.root, "joules", "top", "-s", "p"), ["power"], "top sort keys")
        case.eq(complete(case, t.root, "joules", "top", "--sort", ""),
                ["energy", "kind", "name", "power"], "every sort key")
        case.check("sleep" in complete(case, t.root, "joules", "run", "--", "slee"),
                   "the command after --")


if __name__ == "__main__":
    main()
