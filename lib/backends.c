/* SPDX-License-Identifier: MIT */
#include "backend.h"

extern const struct jl_backend jl_backend_powercap;

const struct jl_backend *const jl_backends[] = {
	&jl_backend_powercap,
	NULL,
};
