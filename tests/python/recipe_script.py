# SPDX-License-Identifier: MIT
# A script written for the pynvml + s-tui power recipe, as its users write
# them. Only the import below was changed (it was
# `from power_usage import PowerUsage, ...`). The "training" it measures
# adds 5 J to a fake CPU package (the test's fake tree) and sleeps 0.3 s
# on a fake 250 W GPU. It prints what the recipe's users print, and lines
# starting with "RESULT " for the test to read.
from joules.compat import PowerUsage, Timer, get_sensor_values, power_usage_api, power_usage_api2

import json
import os
import subprocess
import time


def train():
    subprocess.run([os.environ["FAKESYS"], os.environ["JOULES_SYSFS_ROOT"], "advance",
                    "class/powercap/intel-rapl:0/energy_uj", "5000000", "0"], check=True)
    time.sleep(0.3)


power_usage = PowerUsage()
power_usage.analyze_start(gpu_id=0, delay=0.1)
train()
time_used, power_usage_gpu, power_usage_cpu = power_usage.analyze_end()
print(f"time used: {time_used:.2f} s, GPU {power_usage_gpu:.1f} W, CPU {power_usage_cpu:.1f} W")
print("RESULT mean", json.dumps([time_used, power_usage_gpu, power_usage_cpu,
                                 power_usage.measurement.uncertainty_j]))

power_usage.analyze_start(gpu_id=0, delay=0.05)
train()
time_used, gpu_samples, cpu_samples = power_usage.analyze_end(mean=False)
print("RESULT samples", json.dumps([time_used, gpu_samples, cpu_samples]))


@power_usage_api2(note="decorated")
def step():
    train()
    return 7


def plain_step():
    train()
    return 8


print("RESULT returned", json.dumps([step(), power_usage_api(plain_step)()]))

timer = Timer("epoch", is_verbose=True)
time.sleep(0.01)
timer.pause()
paused_a = timer.elapsed()
time.sleep(0.01)
paused_b = timer.elapsed()
timer.resume()
time.sleep(0.01)
print("RESULT timer", json.dumps([paused_a, paused_b, timer.elapsed()]))

for line in get_sensor_values():
    print(line)
