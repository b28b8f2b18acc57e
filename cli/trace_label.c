/* SPDX-License-Identifier: MIT */
/* Legend names of sensors: see trace_label.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_label.h"

/* Vendor words a model name starts with, which tell nothing on one machine. */
static const char *const vendors[] = {"NVIDIA ", "AMD ", "Intel "};

static const char *model(const char *s)
{
	for (size_t v = 0; v < sizeof vendors / sizeof vendors[0]; v++)
		if (strncmp(s, vendors[v], strlen(vendors[v])) == 0)
			return s + strlen(vendors[v]);
	return s;
}

/* Cut s in place to at most TRACE_LABEL_MAX bytes, between UTF-8 characters. */
static char *cut(char *s)
{
	size_t n = strlen(s);
	if (n > TRACE_LABEL_MAX) {
		n = TRACE_LABEL_MAX;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		s[n] = '\0';
	}
	return s;
}

char *trace_label(const char *id, const char *name, const char *kind)
{
	char buf[128];
	unsigned gpu;
	int used = 0;
	/* joules names a GPU "gpu<index> <model>" (lib/backends/nvml). */
	if (*name && strcmp(kind, "gpu") == 0 && sscanf(name, "gpu%u %n", &gpu, &used) == 1 && used)
		snprintf(buf, sizeof buf, "GPU %u %s", gpu, model(name + used));
	else if (*name)
		snprintf(buf, sizeof buf, "%s", name);
	else {
		/* Only the id: drop its source ("rapl:", "nvml:"); a UUID by its first group. */
		const char *colon = strchr(id, ':'), *rest = colon && colon[1] ? colon + 1 : id;
		size_t hex = 0;
		if (strncmp(rest, "GPU-", 4) == 0)
			while (isxdigit((unsigned char)rest[4 + hex]))
				hex++;
		if (hex)
			snprintf(buf, sizeof buf, "GPU %.*s", (int)hex, rest + 4);
		else
			snprintf(buf, sizeof buf, "%s", rest);
	}
	return strdup(cut(buf));
}
