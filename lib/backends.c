/* SPDX-License-Identifier: MIT */
#include "backend.h"

extern const struct jl_backend jl_backend_powercap;
extern const struct jl_backend jl_backend_perf;
extern const struct jl_backend jl_backend_nvml;
extern const struct jl_backend jl_backend_hwmon;

const struct jl_backend *const jl_backends[] = {
	&jl_backend_powercap,
	&jl_backend_perf,
	&jl_backend_nvml,
	&jl_backend_hwmon,
	NULL,
};
