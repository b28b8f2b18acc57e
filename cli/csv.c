/* SPDX-License-Identifier: MIT */
/* RFC 4180 fields. */
#include <string.h>

#include "csv.h"
#include "text.h"

void csv_field(FILE *f, const char *s)
{
	/* Shown text has no CR or LF left; only ',' and '"' need quotes. */
	if (!strpbrk(s, ",\"")) {
		text_put(f, s);
		return;
	}
	fputc('"', f);
	text_put_quoted(f, s);
	fputc('"', f);
}

void csv_number(FILE *f, bool known, double v)
{
	if (known)
		fprintf(f, "%.6f", v);
}
