/* SPDX-License-Identifier: MIT */
#include "internal.h"

JOULES_API const char *joules_kind_name(int kind)
{
	switch (kind) {
	case JOULES_KIND_CPU_PACKAGE: return "cpu-package";
	case JOULES_KIND_CPU_CORE: return "cpu-core";
	case JOULES_KIND_UNCORE: return "uncore";
	case JOULES_KIND_DRAM: return "dram";
	case JOULES_KIND_PLATFORM: return "platform";
	case JOULES_KIND_GPU: return "gpu";
	}
	return "other";
}
