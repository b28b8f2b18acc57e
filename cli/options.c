/* SPDX-License-Identifier: MIT */
/* Parsing option values, with errors that say which option and why. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "text.h"

int option_duration_ns(const char *cmd, const char *opt, const char *text, double unit_ns,
		       uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	double ns = v * unit_ns;
	/* A year is more than anyone measures; it also keeps the ns in range. */
	if (errno || end == text || *end || !isfinite(v) || ns < 1e6 || ns > 3.2e16) {
		cli_usage_error(cmd, "%s '%s': expected a number from %g to %g", opt, text,
				1e6 / unit_ns, 3.2e16 / unit_ns);
		return -1;
	}
	*out = (uint64_t)ns;
	return 0;
}

int option_count(const char *cmd, const char *opt, const char *text, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v < 1 || v > 1000000 || text[0] == '-') {
		cli_usage_error(cmd, "%s '%s': expected a whole number from 1 to 1000000", opt, text);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

FILE *option_output(const char *cmd, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		int e = errno;
		char shown[1024];
		fprintf(stderr, "joules %s: cannot write %s: %s\n", cmd,
			text_show(path, shown, sizeof shown), strerror(e));
	}
	return f;
}
