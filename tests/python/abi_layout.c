/* SPDX-License-Identifier: MIT */
/*
 * Prints "RECORD size N" and "RECORD FIELD offset" for the public records of
 * joules.h, as this compiler lays them out, for the Python bindings' layout
 * test (tests/python/test_bindings.py) to compare with ctypes.
 */
#include <stddef.h>
#include <stdio.h>

#include "joules.h"

#define SIZE(s) printf(#s " size %zu\n", sizeof(struct s))
#define OFF(s, f) printf(#s " " #f " %zu\n", offsetof(struct s, f))

int main(void)
{
	SIZE(joules_sensor);
	OFF(joules_sensor, reason); OFF(joules_sensor, kind); OFF(joules_sensor, flags);
	OFF(joules_sensor, range_uj); OFF(joules_sensor, wrap_period_ns);
	OFF(joules_sensor, refresh_us); OFF(joules_sensor, also);
	SIZE(joules_open_opts);
	OFF(joules_open_opts, sysfs_root); OFF(joules_open_opts, sources);
	OFF(joules_open_opts, policy); OFF(joules_open_opts, reserved);
	OFF(joules_open_opts, error); OFF(joules_open_opts, error_len);
	SIZE(joules_reading);
	OFF(joules_reading, uncertainty_uj); OFF(joules_reading, status); OFF(joules_reading, flags);
	SIZE(joules_gpu_info);
	OFF(joules_gpu_info, sensor); OFF(joules_gpu_info, uuid); OFF(joules_gpu_info, pci_bus_id);
	OFF(joules_gpu_info, driver_version); OFF(joules_gpu_info, memory_total_bytes);
	OFF(joules_gpu_info, energy_mj); OFF(joules_gpu_info, power_mw);
	OFF(joules_gpu_info, power_limit_mw);
	SIZE(joules_region_sensor);
	OFF(joules_region_sensor, covered_ns); OFF(joules_region_sensor, mean_w);
	OFF(joules_region_sensor, idle_uncertainty_w); OFF(joules_region_sensor, above_idle_uj);
	OFF(joules_region_sensor, refresh_us); OFF(joules_region_sensor, state);
	OFF(joules_region_sensor, error); OFF(joules_region_sensor, flags);
	OFF(joules_region_sensor, reason);
	SIZE(joules_region_total);
	OFF(joules_region_total, above_idle_uj); OFF(joules_region_total, sensors);
	OFF(joules_region_total, error); OFF(joules_region_total, missing);
	OFF(joules_region_total, reason);
	SIZE(joules_region_result);
	OFF(joules_region_result, begin_ns); OFF(joules_region_result, duration_ns);
	OFF(joules_region_result, flags); OFF(joules_region_result, n_sensors);
	OFF(joules_region_result, totals);
	SIZE(joules_trace_point);
	OFF(joules_trace_point, window_ns); OFF(joules_trace_point, power_w);
	OFF(joules_trace_point, status); OFF(joules_trace_point, flags);
	SIZE(joules_baseline);
	OFF(joules_baseline, duration_ns); OFF(joules_baseline, error);
	return 0;
}
