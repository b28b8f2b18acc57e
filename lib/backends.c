/* SPDX-License-Identifier: MIT */
#include "backend.h"

extern const struct jl_backend jl_backend_powercap;
extern const struct jl_backend jl_backend_perf;
extern const struct jl_backend jl_backend_nvml;
extern const struct jl_backend jl_backend_hwmon;
extern const struct jl_backend jl_backend_daemon;

const struct jl_backend *const jl_backends[] = {
	&jl_backend_powercap,
	&jl_backend_perf,
	&jl_backend_nvml,
	&jl_backend_hwmon,
	/* Last: it takes over the domains the direct sources cannot serve as well. */
	&jl_backend_daemon,
	NULL,
};
