/* SPDX-License-Identifier: MIT */
/*
 * The one CSV writer of every command (RFC 4180): a field holding a comma
 * or a double quote is quoted, its quotes doubled; text is shown as
 * cli/text.h says, so no field holds a line break or another control
 * character. Callers write the ',' between fields and the '\n' after a row.
 */
#ifndef JOULES_CLI_CSV_H
#define JOULES_CLI_CSV_H

#include <stdbool.h>
#include <stdio.h>

void csv_field(FILE *f, const char *s);
/* A number with 6 decimals, or an empty field when not known. */
void csv_number(FILE *f, bool known, double v);

#endif
