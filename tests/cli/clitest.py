# SPDX-License-Identifier: MIT
"""What the CLI tests share: TAP output, fake trees, and running `joules`.

Each test is a function taking a Case and registered with @test; main()
runs them in order and prints TAP so meson counts every case. A test that
cannot run here raises Skip (TAP "# SKIP"), never passes silently.

Environment (set by tests/meson.build):
  JOULES_CLI           the built joules binary
  FAKESYS              the rig's command-line tool
  JOULES_TEST_WRAPPER  optional command put before joules (e.g. valgrind)
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import traceback

JOULES = os.environ["JOULES_CLI"]
FAKESYS = os.environ["FAKESYS"]
WRAPPER = shlex.split(os.environ.get("JOULES_TEST_WRAPPER", ""))
# valgrind makes a run ~30x slower; this bounds a hang, not a speed.
TIMEOUT_S = 300

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

_tests = []


class Skip(Exception):
    """This test cannot run in this environment; the reason is reported."""


def test(fn):
    _tests.append(fn)
    return fn


class Case:
    def __init__(self):
        self.failures = []

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok

    def eq(self, got, want, what):
        return self.check(got == want, f"{what}: got {got!r}, want {want!r}")

    def has(self, text, part, what):
        return self.check(text is not None and part in text,
                          f"{what}: {part!r} not in {text!r}")


def main():
    print(f"1..{len(_tests)}")
    failed = 0
    for n, fn in enumerate(_tests, 1):
        case = Case()
        try:
            fn(case)
        except Skip as e:
            print(f"ok {n} - {fn.__name__} # SKIP {e}")
            continue
        except Exception:  # a crash of the test is a failure, with its trace
            case.failures.append(traceback.format_exc())
        print(f"{'not ok' if case.failures else 'ok'} {n} - {fn.__name__}")
        for f in case.failures:
            for line in str(f).rstrip().splitlines():
                print(f"#   {line}")
        failed += bool(case.failures)
        sys.stdout.flush()
    sys.exit(1 if failed else 0)


class Tree:
    """A fake sysfs tree made by the rig's tool, removed on exit."""

    def __init__(self, *layouts):
        out = subprocess.run([FAKESYS, "new", *layouts], check=True,
                             capture_output=True, text=True)
        self.root = out.stdout.strip()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.root)

    def path(self, rel):
        return os.path.join(self.root, rel)

    def fs(self, *args):
        """Run `fakesys ROOT ARGS...`: write, advance, remove, chmod."""
        subprocess.run([FAKESYS, self.root, *args], check=True)

    def zone(self, zone_dir, name, energy_uj, range_uj=262143328850):
        d = f"class/powercap/{zone_dir}"
        self.fs("write", f"{d}/name", f"{name}\n")
        self.fs("write", f"{d}/energy_uj", f"{energy_uj}\n")
        self.fs("write", f"{d}/enabled", "1\n")
        if range_uj:
            self.fs("write", f"{d}/max_energy_range_uj", f"{range_uj}\n")


def joules(*args, root=None, prefix=()):
    """Run joules (under the wrapper, if any). JOULES_SYSFS_ROOT is `root`,
    or unset when root is None."""
    env = dict(os.environ)
    env.pop("JOULES_SYSFS_ROOT", None)
    if root is not None:
        env["JOULES_SYSFS_ROOT"] = root
    return subprocess.run([*prefix, *WRAPPER, JOULES, *args], env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S)


def list_json(case, root=None, prefix=(), source="powercap"):
    """`joules list --json`: (exit status, {id: sensor} of one source,
    document), or a failure recorded in case, with stderr shown. Fake trees
    hold powercap zones; other sources may see the machine itself."""
    p = joules("list", "--json", root=root, prefix=prefix)
    case.eq(p.returncode, 0, f"exit status of list --json; stderr: {p.stderr}")
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        case.check(False, f"list --json is not JSON ({e}): {p.stdout!r}")
        return p.returncode, {}, {}
    sensors = doc.get("sensors", [])
    case.eq(len({s["id"] for s in sensors}), len(sensors), "ids are unique")
    by_id = {s["id"]: s for s in sensors if s["source"] == source}
    return p.returncode, by_id, doc


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root")
