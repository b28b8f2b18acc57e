/* SPDX-License-Identifier: MIT */
/* joules gpu: every NVIDIA GPU's identity and state, as a table or JSON. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "text.h"
#include "joules.h"

static const char usage[] =
	"Usage: joules gpu [--json]\n"
	"\n"
	"Show every NVIDIA GPU (through NVML): name, UUID, PCI bus id, memory\n"
	"total/used/free, GPU and memory utilisation, power now (the driver's 1 s\n"
	"average on Ampere and newer, and the instant value), the enforced power\n"
	"limit and the energy counter, with the driver and NVML versions. A value\n"
	"the GPU does not offer is shown as '-' (null in JSON), never as 0.\n"
	"\n"
	"Options:\n"
	"  --json     one JSON object {\"driver_version\", \"nvml_version\", \"gpus\": [...]}\n"
	"  -h, --help this text\n"
	"\n"
	"Environment:\n"
	"  JOULES_NVML_LIBRARY  the NVML library to load (default libnvidia-ml.so.1)\n"
	"\n"
	"Exit status: 0 when the GPUs were shown, or there is no NVIDIA driver;\n"
	"1 when NVML is present but unusable (the message says why); 2 on a\n"
	"usage error.\n";

#define MIB (1024.0 * 1024.0)

static bool has(const struct joules_gpu_info *g, uint32_t bit)
{
	return (g->valid & bit) != 0;
}

static json_object *watts(const struct joules_gpu_info *g, uint32_t bit, uint32_t mw)
{
	return has(g, bit) ? json_object_new_double(mw / 1e3) : NULL;
}

static json_object *gpu_json(const joules_ctx *ctx, const struct joules_gpu_info *g, int status,
			     const char *error)
{
	json_object *o = json_object_new_object();
	const struct joules_sensor *s = g->sensor >= 0 ? joules_sensor(ctx, (size_t)g->sensor) : NULL;
	json_object_object_add(o, "index", json_object_new_int64(g->index));
	json_object_object_add(o, "name", text_json(g->name));
	json_object_object_add(o, "uuid", text_json(g->uuid));
	json_object_object_add(o, "pci_bus_id", text_json(g->pci_bus_id));
	json_object_object_add(o, "sensor", s ? text_json(s->id) : NULL);
	json_object *mem = NULL;
	if (has(g, JOULES_GPU_HAS_MEMORY)) {
		mem = json_object_new_object();
		json_object_object_add(mem, "total_bytes", json_object_new_int64((int64_t)g->memory_total_bytes));
		json_object_object_add(mem, "used_bytes", json_object_new_int64((int64_t)g->memory_used_bytes));
		json_object_object_add(mem, "free_bytes", json_object_new_int64((int64_t)g->memory_free_bytes));
		json_object_object_add(mem, "free_percent",
				       json_object_new_double(g->memory_total_bytes
								      ? 100.0 * (double)g->memory_free_bytes /
										(double)g->memory_total_bytes
								      : 0.0));
	}
	json_object_object_add(o, "memory", mem);
	json_object *util = NULL;
	if (has(g, JOULES_GPU_HAS_UTILIZATION)) {
		util = json_object_new_object();
		json_object_object_add(util, "gpu_percent", json_object_new_int64(g->gpu_util_percent));
		json_object_object_add(util, "memory_percent", json_object_new_int64(g->memory_util_percent));
	}
	json_object_object_add(o, "utilization", util);
	json_object_object_add(o, "power_w", watts(g, JOULES_GPU_HAS_POWER, g->power_mw));
	json_object_object_add(o, "power_instant_w",
			       watts(g, JOULES_GPU_HAS_POWER_INSTANT, g->power_instant_mw));
	json_object_object_add(o, "power_limit_w",
			       watts(g, JOULES_GPU_HAS_POWER_LIMIT, g->power_limit_mw));
	json_object_object_add(o, "energy_j", has(g, JOULES_GPU_HAS_ENERGY)
						      ? json_object_new_double((double)g->energy_mj / 1e3)
						      : NULL);
	json_object_object_add(o, "status", text_json(status ? joules_strerror(status) : "ok"));
	json_object_object_add(o, "error", status ? text_json(error) : NULL);
	return o;
}

static void print_row(const struct joules_gpu_info *g, int status, const char *error)
{
	char mem[64] = "-", util[16] = "-", power[16] = "-", limit[16] = "-";
	if (has(g, JOULES_GPU_HAS_MEMORY))
		snprintf(mem, sizeof mem, "%.0f/%.0f/%.0f (%.0f%% free)",
			 g->memory_total_bytes / MIB, g->memory_used_bytes / MIB,
			 g->memory_free_bytes / MIB,
			 g->memory_total_bytes ? 100.0 * (double)g->memory_free_bytes /
							 (double)g->memory_total_bytes
					       : 0.0);
	if (has(g, JOULES_GPU_HAS_UTILIZATION))
		snprintf(util, sizeof util, "%u%%/%u%%", g->gpu_util_percent, g->memory_util_percent);
	if (has(g, JOULES_GPU_HAS_POWER))
		snprintf(power, sizeof power, "%.1f", g->power_mw / 1e3);
	if (has(g, JOULES_GPU_HAS_POWER_LIMIT))
		snprintf(limit, sizeof limit, "%.1f", g->power_limit_mw / 1e3);
	printf("%-3u ", g->index);
	text_pad(stdout, g->name, 26);
	putchar(' ');
	text_pad(stdout, g->uuid, 40);
	putchar(' ');
	text_pad(stdout, g->pci_bus_id, 16);
	printf(" %-30s %-9s %8s %8s  ", mem, util, power, limit);
	text_put(stdout, status ? error : "ok");
	putchar('\n');
}

static int show(joules_ctx *ctx, int n, bool json)
{
	json_object *root = NULL, *arr = NULL;
	if (json) {
		root = json_object_new_object();
		arr = json_object_new_array();
	}
	for (int i = 0; i < n; i++) {
		struct joules_gpu_info g = {.size = sizeof g};
		int status = joules_gpu_info(ctx, (size_t)i, &g);
		const char *error = status ? joules_last_error(ctx) : "";
		if (i == 0 && json) {
			json_object_object_add(root, "driver_version", text_json(g.driver_version));
			json_object_object_add(root, "nvml_version", text_json(g.nvml_version));
		} else if (i == 0) {
			fputs("Driver ", stdout);
			text_put(stdout, *g.driver_version ? g.driver_version : "?");
			fputs(", NVML ", stdout);
			text_put(stdout, *g.nvml_version ? g.nvml_version : "?");
			printf(", %d GPU%s\n\n", n, n == 1 ? "" : "s");
			printf("%-3s %-26s %-40s %-16s %-30s %-9s %8s %8s  %s\n", "IDX", "NAME", "UUID",
			       "PCI BUS ID", "MEMORY MiB TOTAL/USED/FREE", "UTIL G/M", "POWER W",
			       "LIMIT W", "STATUS");
		}
		if (json)
			json_object_array_add(arr, gpu_json(ctx, &g, status, error));
		else
			print_row(&g, status, error);
	}
	if (json) {
		json_object_object_add(root, "gpus", arr);
		json_object_object_add(root, "error", NULL);
		text_json_print(stdout, root);
		json_object_put(root);
	}
	return CLI_EXIT_OK;
}

/* No GPU to show: no driver (fine), or NVML present but unusable (a failure). */
static int show_none(const joules_ctx *ctx, int n, bool json)
{
	const char *why = joules_gpu_error(ctx);
	if (json) {
		json_object *root = json_object_new_object();
		json_object_object_add(root, "gpus", json_object_new_array());
		json_object_object_add(root, "error", *why ? text_json(why) : NULL);
		text_json_print(stdout, root);
		json_object_put(root);
	} else if (n == 0) {
		fputs("No NVIDIA GPU: ", stdout);
		text_put(stdout, *why ? why : "NVML found none");
		putchar('\n');
	}
	if (n < 0) {
		fputs("joules gpu: ", stderr);
		text_put(stderr, why);
		fputc('\n', stderr);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

int cli_gpu(int argc, char **argv)
{
	bool json;
	int exit_now = cli_json_only_options(argc, argv, "gpu", usage, &json);
	if (exit_now >= 0)
		return exit_now;
	joules_ctx *ctx;
	if (cli_open("gpu", &ctx) < 0)
		return CLI_EXIT_FAILURE;
	int n = joules_gpu_count(ctx);
	int rc = n > 0 ? show(ctx, n, json) : show_none(ctx, n, json);
	joules_close(ctx);
	return rc;
}
