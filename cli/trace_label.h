/* SPDX-License-Identifier: MIT */
/*
 * A short, readable name for a sensor in a plot's legend, from what the
 * trace says of it: "GPU 0 H200" for the name "gpu0 NVIDIA H200" of kind
 * gpu, "package-0" for "package-0"; from the id alone for traces without
 * names: "package-0" for "rapl:package-0", "GPU 911ede30" for an NVML UUID.
 * At most TRACE_LABEL_MAX bytes, cut between characters.
 */
#ifndef JOULES_CLI_TRACE_LABEL_H
#define JOULES_CLI_TRACE_LABEL_H

#define TRACE_LABEL_MAX 28

/* A new string (free() it), or NULL when out of memory. */
char *trace_label(const char *id, const char *name, const char *kind);

#endif
