# SPDX-License-Identifier: MIT
"""What the `joules top` tests share: fake counters driven at known power,
`joules top` in a private tmux server, and the view read back as a table."""
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time

from clitest import JOULES, WRAPPER, Skip

# How long a view may take to show what a test waits for: bounds a hang
# (valgrind, a loaded machine), never a speed.
WAIT_S = 180


class Rates(threading.Thread):
    """Drive fake counters at constant power: every 50 ms each counter is
    set to its start value plus watts × elapsed time, written in place as
    sysfs does, so the power joules sees is the rate whatever the delays."""

    def __init__(self, tree, watts):
        super().__init__(daemon=True)
        self.tree, self.lock, self.done = tree, threading.Lock(), threading.Event()
        self.counters = {}
        for rel, w in watts.items():
            self.set(rel, w)

    def set(self, rel, watts):
        """Change a counter's power from now on (None: stop driving it)."""
        with self.lock:
            if watts is None:
                self.counters.pop(rel, None)
                return
            with open(self.tree.path(rel)) as f:
                base = int(f.read())
            self.counters[rel] = (base, time.monotonic(), watts)

    def run(self):
        while not self.done.wait(0.05):
            with self.lock:
                for rel, (base, t0, w) in self.counters.items():
                    v = base + int(w * 1e6 * (time.monotonic() - t0))
                    fd = os.open(self.tree.path(rel), os.O_RDWR)
                    try:
                        data = f"{v}\n".encode()
                        os.pwrite(fd, data, 0)
                        os.ftruncate(fd, len(data))
                    finally:
                        os.close(fd)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()


def need_tmux():
    if not shutil.which("tmux"):
        raise Skip("tmux is not installed (tools/test.sh installs it)")


class Pane:
    """`joules top ARGS` alone in a private tmux server (its own socket,
    no config), in a window of the given size. env: variables for joules."""

    _count = 0

    def __init__(self, args, env, width=120, height=40):
        need_tmux()
        Pane._count += 1
        self.socket = f"joules-top-{os.getpid()}-{Pane._count}"
        self.tmux = ["tmux", "-L", self.socket, "-f", "/dev/null"]
        # joules's exit status and stderr (valgrind's report too), kept by
        # the shell that runs it: tmux may clear a dead pane.
        self.status_dir = tempfile.TemporaryDirectory(prefix="joules-top-")
        self.status = os.path.join(self.status_dir.name, "status")
        self.stderr_path = os.path.join(self.status_dir.name, "stderr")
        cmd = " ".join(shlex.quote(a) for a in
                       ["sh", "-c", f'"$@" 2> {shlex.quote(self.stderr_path)}; '
                        f'echo $? > {shlex.quote(self.status)}', "sh",
                        "env", *[f"{k}={v}" for k, v in env.items()], *WRAPPER, JOULES, "top",
                        *args])
        # tmux itself in UTF-8, whatever the locale given to joules.
        self.env = dict(os.environ, LC_ALL="C.UTF-8")
        self.env.pop("TMUX", None)
        self.run("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), cmd,
                 ";", "set-option", "-w", "-t", "t", "remain-on-exit", "on")

    def run(self, *args):
        return subprocess.run([*self.tmux, *args], env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        subprocess.run([*self.tmux, "kill-server"], env=self.env, capture_output=True)
        self.status_dir.cleanup()

    def text(self, escapes=False):
        return self.run("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "t")

    def keys(self, *keys):
        self.run("send-keys", "-t", "t", *keys)

    def resize(self, width, height):
        self.run("resize-window", "-t", "t", "-x", str(width), "-y", str(height))

    def info(self, fmt):
        return self.run("display-message", "-p", "-t", "t", fmt).strip()

    def dead(self):
        return self.info("#{pane_dead}") == "1"

    def wait(self, case, what, pred, timeout=WAIT_S):
        """The pane's text once pred(text) holds; a failure with the last
        text if it never does (or joules ended)."""
        end = time.monotonic() + timeout
        while True:
            text = self.text()
            try:
                if pred(text):
                    return text
            except (KeyError, ValueError, IndexError, StopIteration):
                pass
            if self.dead() or time.monotonic() > end:
                case.check(False, f"{what}: never seen{' (joules ended)' if self.dead() else ''}"
                           f"; the pane:\n{text}")
                return None
            time.sleep(0.1)

    def exit_status(self):
        """joules's exit status once it has ended (None if it never does)."""
        end = time.monotonic() + WAIT_S
        while not os.path.exists(self.status) and time.monotonic() < end:
            time.sleep(0.1)
        if not os.path.exists(self.status):
            return None
        time.sleep(0.1)  # written by now
        with open(self.status) as f:
            return f.read().strip()

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def quit(self, case):
        """q, then joules must end with status 0 (under valgrind: no error)."""
        self.keys("q")
        case.eq(self.exit_status(), "0",
                f"exit status after q; stderr:\n{self.stderr()}\nthe pane:\n{self.text()}")


def table(text):
    """The view (or a --once frame) as {row label: {power, energy, status}}:
    sensors by name, totals by label ("cpu total"); cells found under the
    header's columns (numbers are right-aligned under their heading)."""
    lines = text.splitlines()
    head = next(i for i, l in enumerate(lines) if l.startswith("SENSOR"))
    h = lines[head]
    pe = h.index("POWER W") + len("POWER W") if "POWER W" in h else None
    ee = h.index("ENERGY J") + len("ENERGY J") if "ENERGY J" in h else None
    st = h.index("STATUS") if "STATUS" in h else None
    rows = {}
    for line in lines[head + 1:]:
        if not line.strip() or line.startswith(("(", "q quit", "Not measured")):
            break
        label = line.split()[0] if line.startswith("  ") else re.match(r"\S+(?: \S+)?",
                                                                        line).group(0)
        cell = lambda end: (line[:end].rsplit(None, 1) or [""])[-1] if end else None
        rows[label] = {"power": cell(pe), "energy": cell(ee),
                       "status": line[st:].strip() if st else None, "line": line}
    return rows


def number(rows, label, key):
    """A cell as a float; ValueError when it is not a number (yet)."""
    return float(rows[label][key])


def near(got, want, tolerance=0.25):
    return abs(got - want) <= tolerance * want
