#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Python bindings (python/joules) over the built libjoules, on fake
sysfs trees whose counters the test advances by known amounts between
boundaries, and on the fake libnvidia-ml.so.1 (real dlopen path) whose
power is constant. No timing is asserted: CPU energies are exact, GPU
energies are checked against power x the region's own covered time within
the result's own uncertainty."""
import contextlib
import ctypes
import io
import json
import os
import subprocess
import sys
import time
import unittest

import joules
from joules import _abi
from bindutil import CORE0, DRAM0, FAKE_NVML, J, PKG0, PKG1, FakeGpus, Tree

import pytap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
import daemontest  # noqa: E402


class Layout(unittest.TestCase):
    def test_records_match_the_compiler(self):
        """Every record's size and the offsets the C compiler gives (a drift
        in joules.h or in _abi.py fails here)."""
        out = subprocess.run([os.environ["JOULES_ABI_LAYOUT"]], check=True,
                             capture_output=True, text=True).stdout
        seen = set()
        for line in out.splitlines():
            record, field, value = line.split()
            cls = _abi.RECORDS[record]
            got = ctypes.sizeof(cls) if field == "size" else getattr(cls, field).offset
            self.assertEqual(got, int(value), f"{record}.{field}")
            seen.add(record)
        self.assertEqual(seen, set(_abi.RECORDS))
        # The sizes the header promises.
        self.assertEqual(ctypes.sizeof(_abi.RegionSensor), 608)
        self.assertEqual(ctypes.sizeof(_abi.RegionTotal), 560)
        self.assertEqual(ctypes.sizeof(_abi.RegionResult), 2344)
        self.assertEqual(ctypes.sizeof(_abi.TracePoint), 48)
        self.assertEqual(ctypes.sizeof(_abi.Baseline), 32)


class Energies(unittest.TestCase):
    def setUp(self):
        self.tree = Tree("intel-2s")
        self.meter = joules.Meter(interval=0, sysfs_root=self.tree.root)

    def tearDown(self):
        self.meter.close()
        self.tree.__exit__()

    def test_energy_totals_means(self):
        with joules.measure("work", meter=self.meter) as m:
            self.tree.advance(PKG0, 3 * J)
            self.tree.advance(CORE0, 1 * J)
            self.tree.advance(DRAM0, 2 * J)
            self.tree.advance(PKG1, 5 * J)
        self.assertEqual(m.energy_j["rapl:package-0"], 3.0)
        self.assertEqual(m.energy_j["rapl:core-0"], 1.0)
        self.assertEqual(m.energy_j["rapl:package-1"], 5.0)
        self.assertEqual(m.cpu_j, 8.0)  # packages, not their cores again
        self.assertEqual(m.dram_j, 2.0)
        self.assertIsNone(m.gpu_j)
        self.assertIn("no gpu sensor", m.why("gpu"))
        self.assertIsNone(m.platform_j)
        self.assertEqual(m.why("cpu"), "")
        self.assertGreater(m.seconds, 0)
        s = m.sensors["rapl:package-0"]
        self.assertEqual(s.state, "ok")
        self.assertEqual(s.total, "cpu")
        self.assertIsNone(m.sensors["rapl:core-0"].total)
        self.assertAlmostEqual(s.mean_w, 3.0 / s.covered_s, delta=1e-9 * s.mean_w)
        self.assertAlmostEqual(m.mean_w["rapl:package-0"], 3.0 / s.covered_s)
        self.assertGreaterEqual(m.peak_w["rapl:package-0"], m.mean_w["rapl:package-0"])
        self.assertGreater(m.uncertainty_j["rapl:package-0"], 0)
        self.assertAlmostEqual(m.totals["cpu"].uncertainty_j,
                               m.uncertainty_j["rapl:package-0"]
                               + m.uncertainty_j["rapl:package-1"])
        self.assertAlmostEqual(m.totals["cpu"].mean_w, 8.0 / m.seconds)
        text = str(m)
        self.assertTrue(text.startswith("work: "), text)
        self.assertIn("cpu 8.000 J", text)
        self.assertIn("dram 2.000 J", text)
        doc = json.loads(json.dumps(m.to_dict()))
        self.assertEqual(doc["name"], "work")
        self.assertEqual(doc["totals"]["cpu"]["energy_j"], 8.0)
        self.assertIsNone(doc["totals"]["gpu"]["energy_j"])
        by_id = {s["id"]: s for s in doc["sensors"]}
        self.assertEqual(by_id["rapl:dram-0"]["energy_j"], 2.0)
        self.assertEqual(by_id["rapl:dram-0"]["state"], "ok")

    def test_not_ended(self):
        m = joules.measure("later", meter=self.meter)
        self.assertIsNone(m.seconds)
        self.assertIsNone(m.cpu_j)
        self.assertEqual(m.energy_j, {})
        self.assertIn("not ended", str(m))
        self.assertIn("not ended", m.why("cpu"))

    def test_nesting_and_overlap(self):
        meter = self.meter
        meter.begin("a")
        self.tree.advance(PKG0, 1 * J)
        meter.begin("b")
        self.tree.advance(PKG0, 2 * J)
        a = meter.end("a")
        self.tree.advance(PKG0, 4 * J)
        b = meter.end("b")
        self.assertEqual(a.energy_j["rapl:package-0"], 3.0)
        self.assertEqual(b.energy_j["rapl:package-0"], 6.0)
        self.assertEqual(a.name, "a")
        # Nested `with` blocks, each its own region.
        with joules.measure("outer", meter=meter) as outer:
            self.tree.advance(PKG1, 1 * J)
            with joules.measure("inner", meter=meter) as inner:
                self.tree.advance(PKG1, 2 * J)
        with meter.measure("own") as own:
            self.tree.advance(PKG1, 7 * J)
        self.assertEqual(own.energy_j["rapl:package-1"], 7.0)
        self.assertEqual(outer.energy_j["rapl:package-1"], 3.0)
        self.assertEqual(inner.energy_j["rapl:package-1"], 2.0)
        self.assertLessEqual(inner.seconds, outer.seconds)
        # Names are unique among running windows; ending twice is refused.
        meter.begin("c")
        with self.assertRaises(joules.JoulesError) as e:
            meter.begin("c")
        self.assertIn("'c' is running already", str(e.exception))
        meter.end("c")
        with self.assertRaises(joules.JoulesError) as e:
            meter.end("c")
        self.assertIn("no window 'c' is running", str(e.exception))

    def test_pause_resume(self):
        meter = self.meter
        meter.begin("p")
        self.tree.advance(PKG0, 1 * J)
        meter.pause("p")
        self.tree.advance(PKG0, 10 * J)
        meter.resume("p")
        self.tree.advance(PKG0, 2 * J)
        m = meter.end("p")
        self.assertEqual(m.energy_j["rapl:package-0"], 3.0)
        self.assertGreater(m.paused_s, 0)
        with joules.measure("q", meter=meter) as q:
            q.pause()
            self.tree.advance(PKG0, 10 * J)
            q.resume()
            self.tree.advance(PKG0, 1 * J)
        self.assertEqual(q.energy_j["rapl:package-0"], 1.0)

    def test_decorator_forms(self):
        meter, tree = self.meter, self.tree
        seen = []

        @joules.measure(meter=meter, report=seen.append)
        def plain(x):
            tree.advance(PKG0, x * J)
            return x * 10

        @joules.measure("note", meter=meter, report=seen.append)
        def noted():
            tree.advance(PKG1, 2 * J)

        self.assertEqual(plain(3), 30)
        self.assertEqual(plain.__name__, "plain")
        self.assertEqual(seen[-1].energy_j["rapl:package-0"], 3.0)
        self.assertTrue(seen[-1].name.endswith("test_decorator_forms.<locals>.plain"),
                        seen[-1].name)
        self.assertEqual(plain(1), 10)
        self.assertEqual(seen[-1].energy_j["rapl:package-0"], 1.0)
        self.assertEqual(plain.measurement.cpu_j, 1.0)  # the last call's
        noted()
        self.assertEqual(seen[-1].name, "note")
        self.assertEqual(seen[-1].cpu_j, 2.0)

        # A bare @joules.measure on the default meter; its summary goes to
        # stderr.
        os.environ["JOULES_SYSFS_ROOT"] = tree.root
        joules._meter._default = None
        try:
            @joules.measure
            def bare():
                tree.advance(PKG0, 4 * J)
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                bare()
            self.assertIn("bare: ", err.getvalue())
            self.assertIn("cpu 4.000 J", err.getvalue())
        finally:
            os.environ.pop("JOULES_SYSFS_ROOT")
            joules._meter._default.close()
            joules._meter._default = None

        # The function's exception passes through, and the call is measured.
        @joules.measure("boom", meter=meter, report=seen.append)
        def boom():
            tree.advance(PKG0, 5 * J)
            raise KeyError("k")
        with self.assertRaises(KeyError):
            boom()
        self.assertEqual(seen[-1].cpu_j, 5.0)

    def test_sync_runs_before_each_boundary(self):
        """sync() advances the counter: at the begin it is before the first
        reading (not counted), at pause/resume/end before theirs."""
        calls = []

        def sync():
            calls.append(1)
            self.tree.advance(PKG0, 1 * J)

        with joules.measure("s", sync=sync, meter=self.meter) as m:
            self.assertEqual(len(calls), 1)
        self.assertEqual(len(calls), 2)
        self.assertEqual(m.energy_j["rapl:package-0"], 1.0)
        # pause: counted before it; resume: the step lands while paused.
        self.meter.begin("t", sync=sync)
        self.meter.pause("t")
        self.meter.resume("t")
        m = self.meter.end("t")
        self.assertEqual(len(calls), 6)
        self.assertEqual(m.energy_j["rapl:package-0"], 2.0)

    def test_sensor_failing_midregion(self):
        meter, tree = self.meter, self.tree
        meter.begin("r")
        tree.advance(PKG0, 1 * J)
        tree.advance(PKG1, 1 * J)
        meter.sample()
        tree.fs("remove", PKG0)
        meter.sample()
        tree.advance(PKG1, 1 * J)
        m = meter.end("r")
        s = m.sensors["rapl:package-0"]
        self.assertEqual(s.state, "partial")
        self.assertEqual(s.energy_j, 1.0)
        self.assertLess(s.covered_s, m.sensors["rapl:package-1"].covered_s)
        self.assertIn("energy_uj", s.reason)
        self.assertIsNotNone(s.error)
        self.assertEqual(m.energy_j["rapl:package-1"], 2.0)
        self.assertIsNone(m.cpu_j)
        self.assertEqual(m.totals["cpu"].missing, "rapl:package-0")
        self.assertIn("rapl:package-0", m.why("cpu"))
        self.assertIn("cpu not measured", str(m))
        self.assertIn("incomplete: rapl:package-0", str(m))
        self.assertEqual(m.to_dict()["totals"]["cpu"]["missing"], "rapl:package-0")

    def test_trace_and_peak(self):
        meter, tree = self.meter, self.tree
        # As tests/test_region.c: windows of a few ms between the samples.
        meter.begin("tr")
        meter.sample()
        time.sleep(0.002)
        tree.advance(PKG0, 1 * J)
        meter.sample()
        time.sleep(0.002)
        tree.advance(PKG0, 4 * J)
        meter.sample()
        time.sleep(0.002)
        m = meter.end("tr")
        pts = [p for p in m.trace if p[1] == "rapl:package-0"]
        self.assertEqual(len(pts), 2, m.trace)
        for t, sid, w in m.trace:
            self.assertTrue(0 <= t <= m.seconds, (t, m.seconds))
            self.assertIsInstance(w, float)
        self.assertLess(pts[0][0], pts[1][0])
        self.assertEqual(m.peak_w["rapl:package-0"], pts[1][2])
        self.assertTrue(m.sensors["rapl:package-0"].peak_sampled)
        self.assertEqual({p[1] for p in m.trace}, set(m.sensors))
        self.assertEqual(json.loads(json.dumps(m.to_dict()))["trace"][0][1], m.trace[0][1])
        self.assertEqual(len([p for p in meter.trace() if p[1] == "rapl:package-0"]), 2)

    def test_baseline(self):
        meter, tree = self.meter, self.tree
        meter.set_baseline({"rapl:package-0": (10.0, 0.5)})
        with joules.measure("b", meter=meter) as m:
            tree.advance(PKG0, 3 * J)
        s = m.sensors["rapl:package-0"]
        self.assertEqual(s.idle_w, 10.0)
        self.assertAlmostEqual(s.above_idle_j, 3.0 - 10.0 * s.covered_s, places=5)
        self.assertAlmostEqual(s.above_idle_uncertainty_j,
                               s.uncertainty_j + 0.5 * s.covered_s, places=5)
        self.assertNotIn("rapl:package-1", m.above_idle_j)
        with self.assertRaises(joules.JoulesError) as e:
            meter.set_baseline({"rapl:nope": 1.0})
        self.assertIn("rapl:nope", str(e.exception))
        # Measured: counters that do not move make an idle power of 0.
        meter.measure_baseline(0.05)
        with joules.measure("b2", meter=meter) as m2:
            tree.advance(PKG0, 2 * J)
        self.assertEqual(m2.sensors["rapl:package-0"].idle_w, 0.0)
        self.assertEqual(m2.above_idle_j["rapl:package-0"], 2.0)
        self.assertIsNotNone(m2.totals["cpu"].above_idle_j)

    def test_errors_carry_the_library_message(self):
        with self.assertRaises(joules.JoulesError) as e:
            self.meter.context.call("region_pause", 12345)
        self.assertEqual(e.exception.code, -1)
        self.assertEqual(e.exception.name, joules._lib.strerror(-1))
        self.assertEqual(str(e.exception), self.meter.context.last_error())
        self.assertTrue(str(e.exception))
        with self.assertRaises(joules.JoulesError) as e:
            joules.measure("g", gpus=[0], meter=self.meter).__enter__()
        self.assertIn("there is none", str(e.exception))


class Opening(unittest.TestCase):
    def test_open_failure_carries_the_message(self):
        """joules_open_with's error buffer: the message of a failed open."""
        with self.assertRaises(joules.JoulesError) as e:
            joules.Meter(sources="powercap,nosuchsource")
        self.assertEqual(e.exception.code, -1)
        self.assertIn("nosuchsource", str(e.exception))
        with self.assertRaises(joules.JoulesError) as e:
            joules.Meter(policy="sometimes")
        self.assertIn("policy", str(e.exception))

    def test_sources_limit_the_sensors(self):
        with Tree("intel-2s") as tree:
            meter = joules.Meter(interval=0, sysfs_root=tree.root, sources="powercap")
            try:
                self.assertEqual([s["name"] for s in meter.context.sources()], ["powercap"])
                self.assertEqual(len(meter.sensors), 8)
            finally:
                meter.close()


class Library(unittest.TestCase):
    def run_py(self, code, **env):
        e = dict(os.environ, **env)
        return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True,
                              text=True, timeout=120)

    def test_missing_library_says_what_to_do(self):
        p = self.run_py("import joules\ntry:\n joules.Meter()\nexcept joules.LibraryNotFound as e:"
                        "\n print('MSG', e)", JOULES_LIBRARY="/nonexistent/libjoules.so.0")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("MSG joules: cannot load /nonexistent/libjoules.so.0", p.stdout)
        self.assertIn("JOULES_LIBRARY", p.stdout)

    def test_version(self):
        self.assertRegex(joules.version(), r"^\d+\.\d+\.\d+$")

    def test_fork_child_opens_its_own(self):
        with Tree("intel-2s") as tree:
            os.environ["JOULES_SYSFS_ROOT"] = tree.root
            joules._meter._default = None
            try:
                parent = joules.default_meter()
                pid = os.fork()
                if pid == 0:  # the child: measure with a meter of its own
                    code = 1
                    try:
                        with joules.measure("child") as m:
                            tree.advance(PKG0, 2 * J)
                        code = 0 if (m.cpu_j == 2.0 and joules.default_meter() is not parent) else 3
                    finally:
                        os._exit(code)
                _, status = os.waitpid(pid, 0)
                self.assertEqual(os.waitstatus_to_exitcode(status), 0)
            finally:
                os.environ.pop("JOULES_SYSFS_ROOT")
                joules._meter._default.close()
                joules._meter._default = None


AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
NOBODY_SCRIPT = """
import json, os, subprocess, joules
with joules.measure("nobody") as m:
    subprocess.run([os.environ["FAKESYS"], os.environ["JOULES_SYSFS_ROOT"], "advance",
                    "class/powercap/intel-rapl:1/energy_uj", "2000000", "0"], check=True)
print(json.dumps(m.to_dict()))
"""
# Through joulesd (JOULES_SOCKET): the test advances the counters between
# "begun" and "end".
NOBODY_DAEMON_SCRIPT = """
import json, sys, joules
with joules.measure("via joulesd") as m:
    print("begun", flush=True)
    sys.stdin.readline()
print(json.dumps(m.to_dict()))
"""


class Unprivileged(unittest.TestCase):
    """A real unprivileged user (nobody) on a tree whose package-0 counter
    is root-only (0400, as since Linux 5.10): the measurement runs, says
    why package-0 and the cpu total are not measured, and measures the
    rest; through joulesd, a member of its group measures them all and an
    outsider is told how to get access."""

    def test_nobody_measures_what_it_may_read(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to make the tree and switch users")
        with Tree("intel-2s") as tree:
            tree.fs("chmod", PKG0, "400")
            tree.fs("chmod", PKG1, "666")  # the script, as nobody, advances it
            env = dict(os.environ, JOULES_SYSFS_ROOT=tree.root)
            p = subprocess.run([*AS_NOBODY, sys.executable, "-c", NOBODY_SCRIPT], env=env,
                               capture_output=True, text=True, timeout=120)
        if p.returncode != 0 and "Permission denied" in p.stderr and "python" in p.stderr:
            self.skipTest(f"nobody cannot run the interpreter or reach the tree: {p.stderr}")
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        by_id = {s["id"]: s for s in doc["sensors"]}
        locked = by_id["rapl:package-0"]
        self.assertEqual(locked["state"], "unreadable")
        self.assertEqual(locked["error"], "permission denied")
        self.assertIn("energy_uj", locked["reason"])
        self.assertIsNone(locked["energy_j"])
        self.assertEqual(by_id["rapl:package-1"]["energy_j"], 2.0)
        self.assertIsNone(doc["totals"]["cpu"]["energy_j"])
        self.assertIn("rapl:package-0", doc["totals"]["cpu"]["reason"])

    def run_through_daemon(self, prefix, advance):
        """NOBODY_DAEMON_SCRIPT as `prefix` says, against a real joulesd
        (root, over daemontest.locked_tree(), on a temp socket); while its
        region is open the test advances the root-only counters by
        `advance` ({path: µJ}) and waits until the daemon has published
        them. The script's m.to_dict()."""
        try:
            daemontest.setup_accounts()
        except daemontest.Skip as e:
            self.skipTest(str(e))
        with daemontest.locked_tree() as tree, daemontest.Daemon(tree) as d:
            p = subprocess.Popen([*prefix, daemontest.PYTHON, "-c", NOBODY_DAEMON_SCRIPT],
                                 env=d.client_env(), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                ready = p.stdout.readline()
                self.assertEqual(ready, "begun\n", p.stderr.read() if not ready else ready)
                s = daemontest.connect(d.sock)
                before = [slot[0] for slot in daemontest.snapshot(s)[1]]
                for path, uj in advance.items():
                    tree.fs("advance", path, str(uj), "0")
                deadline = time.monotonic() + daemontest.PATIENCE_S
                while time.monotonic() < deadline:  # a bound on a hang, not a speed
                    now = [slot[0] for slot in daemontest.snapshot(s)[1]]
                    if sum(a != b for a, b in zip(before, now)) == len(advance):
                        break
                    time.sleep(0.01)
                s.close()
                out, err = p.communicate("end\n", timeout=daemontest.PATIENCE_S)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        self.assertEqual(p.returncode, 0, err)
        return json.loads(out)

    def test_member_measures_root_only_counters_through_joulesd(self):
        """nobody in the group 'joules': exact energies of root-only
        counters and the cpu total, each sensor read via the daemon."""
        doc = self.run_through_daemon(daemontest.member(), {
            "class/powercap/intel-rapl:0/energy_uj": 2 * J,
            "class/powercap/intel-rapl:1/energy_uj": 3 * J})
        by_id = {s["id"]: s for s in doc["sensors"]}
        for sid, want in (("rapl:package-0", 2.0), ("rapl:package-1", 3.0),
                          ("rapl:dram-0", 0.0)):
            self.assertEqual(by_id[sid]["state"], "ok", by_id[sid])
            self.assertEqual(by_id[sid]["via"], "daemon", sid)
            self.assertEqual(by_id[sid]["energy_j"], want, sid)
        self.assertEqual(doc["totals"]["cpu"]["energy_j"], 5.0)
        self.assertEqual(doc["totals"]["cpu"]["reason"], "")

    def test_outsider_is_told_how_to_get_access(self):
        """nobody outside the group: joulesd refuses it, so the cpu total is
        None and its reason says to join the group (or start joulesd)."""
        doc = self.run_through_daemon(daemontest.outsider(), {
            "class/powercap/intel-rapl:0/energy_uj": 2 * J})
        cpu = doc["totals"]["cpu"]
        self.assertIsNone(cpu["energy_j"])
        for words in ("rapl:package-0", "join the group 'joules'", "usermod -aG joules",
                      "joulesd"):
            self.assertIn(words, cpu["reason"])
        by_id = {s["id"]: s for s in doc["sensors"]}
        self.assertEqual(by_id["rapl:package-0"]["state"], "unreadable")
        self.assertIsNone(by_id["rapl:package-0"]["energy_j"])


GPU_CONF = ("gpus 2\n"
            "uuid 0 GPU-aaaaaaaa-0000-0000-0000-000000000000\nbusid 0 00000000:17:00.0\n"
            "uuid 1 GPU-bbbbbbbb-1111-1111-1111-111111111111\nbusid 1 00000000:65:00.0\n"
            "power_mw 0 100000\npower_mw 1 300000\nlimit_mw 0 700000\nlimit_mw 1 700000\n"
            "step_ms 0 10\nstep_ms 1 10\nsamples_lag_ms 0 30\nsamples_lag_ms 1 30\n")


class Gpus(unittest.TestCase):
    def setUp(self):
        self.gpus = FakeGpus(GPU_CONF).__enter__()
        self.tree = Tree("intel-2s")
        self.meter = joules.Meter(interval=0.02, sysfs_root=self.tree.root)
        self.saved = os.environ.pop("CUDA_VISIBLE_DEVICES", None)

    def tearDown(self):
        self.meter.close()
        self.tree.__exit__()
        self.gpus.__exit__()
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        if self.saved is not None:
            os.environ["CUDA_VISIBLE_DEVICES"] = self.saved

    def check_power(self, m, sid, watts):
        s = m.sensors[sid]
        self.assertEqual(s.state, "ok")
        expect = watts * s.covered_s
        tol = s.uncertainty_j + expect / 100 + 0.005
        self.assertTrue(abs(s.energy_j - expect) <= tol,
                        f"{sid}: {s.energy_j} J, want {expect} ± {tol}")

    def gpu_ids(self, m):
        return sorted(k for k, s in m.sensors.items() if s.kind == "gpu")

    def measure(self, gpus):
        with joules.measure("g", gpus=gpus, meter=self.meter) as m:
            self.tree.advance(PKG0, 1 * J)
            # package-1 moves too: a counter still for 100 ms is not counting.
            self.tree.advance(PKG1, 1 * J)
            time.sleep(0.2)
        return m

    def test_both_gpus_and_cpu(self):
        m = self.measure(None)
        ids = self.gpu_ids(m)
        self.assertEqual(len(ids), 2)
        self.check_power(m, ids[0], 100)
        self.check_power(m, ids[1], 300)
        self.assertAlmostEqual(m.gpu_j, m.energy_j[ids[0]] + m.energy_j[ids[1]])
        self.assertEqual(m.cpu_j, 2.0)
        self.assertIn("gpu ", str(m))
        self.assertTrue(m.trace)

    def test_no_gpu_call_while_no_window_is_open(self):
        # The meter's sampler runs (20 ms), but with no window open the GPUs
        # sleep once the 2 s linger is over: the fake NVML gets no call.
        fake = ctypes.CDLL(FAKE_NVML)  # the library's own copy: same path
        fake.fake_nvml_calls.restype = ctypes.c_ulong
        time.sleep(2.8)
        calls = fake.fake_nvml_calls()
        time.sleep(0.6)
        self.assertEqual(fake.fake_nvml_calls(), calls)
        m = self.measure(None)  # a window wakes them, and measures exactly
        self.assertGreater(fake.fake_nvml_calls(), calls)
        ids = self.gpu_ids(m)
        self.check_power(m, ids[0], 100)
        self.check_power(m, ids[1], 300)

    def test_cuda_visible_devices(self):
        gpu1 = self.meter.context.gpu(1)
        self.assertEqual(gpu1.uuid, "GPU-bbbbbbbb-1111-1111-1111-111111111111")
        sensor1 = self.meter.context.sensors[gpu1.sensor].id
        for env in ("GPU-bbbbbbbb-1111-1111-1111-111111111111", "GPU-bbbb", "1",
                    "0000:65:00.0", "GPU-bbbbbbbb,0"):
            os.environ["CUDA_VISIBLE_DEVICES"] = env
            m = self.measure([0])  # CUDA device 0 is physical GPU 1
            self.assertEqual(self.gpu_ids(m), [sensor1], env)
            self.check_power(m, sensor1, 300)
            self.assertEqual(m.gpu_j, m.energy_j[sensor1])
            self.assertEqual(m.cpu_j, 2.0)  # other sensors still count
        os.environ["CUDA_VISIBLE_DEVICES"] = "1,0"
        m = self.measure([1])
        self.check_power(m, self.gpu_ids(m)[0], 100)
        self.assertEqual(self.gpu_ids(m), [self.meter.context.sensors[
            self.meter.context.gpu(0).sensor].id])
        # Bad specs name what failed.
        for env, spec, text in (("GPU-cccc", [0], "matches no GPU"),
                                ("GPU-", [0], "matches several GPUs"),
                                ("0", [1], "no CUDA device 1"),
                                ("MIG-abc", [0], "MIG instance"),
                                ("5", [0], "names GPU 5")):
            os.environ["CUDA_VISIBLE_DEVICES"] = env
            with self.assertRaises(joules.JoulesError, msg=env) as e:
                self.measure(spec)
            self.assertIn(text, str(e.exception), env)
        # UUIDs and PCI bus ids given directly ignore CUDA_VISIBLE_DEVICES.
        os.environ["CUDA_VISIBLE_DEVICES"] = "0"
        self.assertEqual(self.gpu_ids(self.measure(["GPU-bbbbbbbb-1111-1111-1111-111111111111"])),
                         [sensor1])
        self.assertEqual(self.gpu_ids(self.measure(["65:00.0"])), [sensor1])

    def test_gpu_lost_midregion(self):
        self.meter.begin("lost")
        time.sleep(0.1)
        self.gpus.write(GPU_CONF + "lost 1\n")
        time.sleep(0.2)  # the fake sees a new config within a window
        m = self.meter.end("lost")
        ids = self.gpu_ids(m)
        self.check_power(m, ids[0], 100)
        s = m.sensors[ids[1]]
        self.assertIn(s.state, ("partial", "gap"))
        self.assertTrue(s.reason)
        self.assertIsNone(m.gpu_j)
        self.assertIn(ids[1], m.why("gpu"))


if __name__ == "__main__":
    pytap.main()
