#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""joules.compat runs a script written for the pynvml + s-tui recipe
(tests/python/recipe_script.py) changed only in its imports, on a fake
tree and a fake 250 W GPU, and gives the recipe's shapes with the values
the counters say: CPU mean = the 5 J the script adds / its time, exactly;
GPU mean = 250 W within the measurement's own uncertainty."""
import ast
import json
import os
import subprocess
import sys
import unittest

from bindutil import FakeGpus, Tree

import pytap

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recipe_script.py")
GPU_W = 250.0


def run_recipe():
    with Tree("intel-2s") as tree, FakeGpus(
            f"gpus 1\npower_mw 0 {int(GPU_W * 1000)}\nstep_ms 0 10\nsamples_lag_ms 0 30\n"
            "mem 0 85899345920 21474836480\nutil 0 70 30\nlimit_mw 0 700000\n"):
        env = dict(os.environ, JOULES_SYSFS_ROOT=tree.root)
        return subprocess.run([sys.executable, SCRIPT], env=env, capture_output=True,
                              text=True, timeout=300)


class Recipe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = run_recipe()
        cls.results = {}
        cls.lines = cls.p.stdout.splitlines()
        for line in cls.lines:
            if line.startswith("RESULT "):
                _, key, value = line.split(" ", 2)
                cls.results[key] = json.loads(value)

    def test_runs(self):
        self.assertEqual(self.p.returncode, 0, self.p.stdout + self.p.stderr)
        self.assertEqual(self.p.stderr, "", "no warning: every value was measured")

    def test_means_from_counters(self):
        time_used, gpu_w, cpu_w, unc = self.results["mean"]
        self.assertGreater(time_used, 0.3)
        # The CPU: 5 J over the span, exactly (counters, not samples).
        self.assertAlmostEqual(cpu_w, 5.0 / time_used, delta=1e-9 * cpu_w)
        gpu_unc = max(v for k, v in unc.items() if k.startswith("nvml"))
        tol = gpu_unc / time_used + GPU_W / 100 + 0.05
        self.assertTrue(abs(gpu_w - GPU_W) <= tol, f"GPU {gpu_w} W, want {GPU_W} ± {tol}")

    def test_sample_lists(self):
        time_used, gpu, cpu = self.results["samples"]
        self.assertGreater(time_used, 0.3)
        # 0.3 s at 0.05 s: a window every sample, less the GPU's late ones.
        self.assertGreaterEqual(len(gpu), 3, gpu)
        self.assertGreaterEqual(len(cpu), 3, cpu)
        for w in gpu:
            self.assertTrue(abs(w - GPU_W) <= 0.1 * GPU_W, gpu)
        self.assertTrue(all(w >= 0 for w in cpu), cpu)
        self.assertGreater(max(cpu), 0, "the 5 J step is in one window")

    def test_decorators_print_note_and_tuple(self):
        self.assertEqual(self.results["returned"], [7, 8])
        printed = [ln for ln in self.lines if ln.startswith("decorated (")]
        self.assertEqual(len(printed), 1, self.lines)
        t = ast.literal_eval(printed[0][len("decorated "):])
        self.assertEqual(len(t), 3)
        self.assertAlmostEqual(t[2], 5.0 / t[0], delta=1e-6 * t[2])
        bare = [ln for ln in self.lines if ln.startswith(" (")]
        self.assertEqual(len(bare), 1, "power_usage_api with note=''")

    def test_timer(self):
        a, b, c = self.results["timer"]
        self.assertEqual(a, b, "paused: elapsed does not move")
        self.assertGreater(c, b)
        self.assertTrue(any(ln.startswith("epoch elapsed: ") for ln in self.lines))

    def test_sensor_values(self):
        text = "\n".join(self.lines)
        for part in ("Driver Version: 580.159.04", "GPU 0: NVIDIA Fake GPU 0",
                     "GPU 0 Memory Total: 81920 MiB", "GPU 0 Memory Used: 20480 MiB",
                     "GPU 0 Memory Free: 61440 MiB (75.0%)", "GPU 0 Utilization: 70%",
                     "GPU 0 Power: 250.0 W (limit 700 W)"):
            self.assertIn(part, text)


class Unmeasured(unittest.TestCase):
    def test_no_cpu_sensor_is_none_with_a_warning(self):
        """Where no CPU energy can be read (a VM: no RAPL), the CPU value is
        None and a warning says why; the GPU is still measured."""
        import warnings
        from joules.compat import PowerUsage
        with Tree() as tree, FakeGpus(f"gpus 1\npower_mw 0 {int(GPU_W * 1000)}\n"):
            os.environ["JOULES_SYSFS_ROOT"] = tree.root
            try:
                p = PowerUsage()
                p.analyze_start(gpu_id=0, delay=0.07)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    time_used, gpu_w, cpu_w = p.analyze_end()
                with self.assertRaises(Exception) as e:
                    p.analyze_start(gpu_id=3, delay=0.07)
                self.assertIn("no GPU 3", str(e.exception))
            finally:
                os.environ.pop("JOULES_SYSFS_ROOT")
        self.assertIsNone(cpu_w)
        self.assertIsNotNone(gpu_w)
        self.assertEqual(len(caught), 1, [str(w.message) for w in caught])
        self.assertIn("CPU energy not measured", str(caught[0].message))
        self.assertIn("no cpu sensor", str(caught[0].message))


if __name__ == "__main__":
    pytap.main()
