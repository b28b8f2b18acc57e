/* SPDX-License-Identifier: MIT */
/*
 * Text from outside (sensor ids and names, file names, reasons, a command's
 * arguments) made safe to show and to write as JSON, whatever its bytes.
 *
 * Shown (terminal, CSV, messages): every valid UTF-8 character as it is,
 * except control characters (U+0000-U+001F, U+007F-U+009F), written \xNN
 * with NN the code point, so that a name cannot move the cursor or start an
 * escape sequence; a byte that is not UTF-8 is written \xNN too. A string
 * that ends inside a character was cut there: the partial character is
 * dropped.
 * JSON: every valid character as it is (json-c escapes the controls), a byte
 * that is not UTF-8 becomes U+FFFD, a partial last character is dropped.
 */
#ifndef JOULES_CLI_TEXT_H
#define JOULES_CLI_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

/* Write s to f, shown. */
void text_put(FILE *f, const char *s);
/* Write s to f, shown, with every '"' doubled (inside a quoted CSV field). */
void text_put_quoted(FILE *f, const char *s);
/* Write s to f, shown, then spaces up to `width` columns. */
void text_pad(FILE *f, const char *s, int width);
/* Columns s takes once shown (one per character). */
int text_width(const char *s);
/*
 * s shown, into buf (len > 0); when it does not fit, or takes more than
 * `columns`, it is cut between characters and ends with "…". Returns buf.
 */
const char *text_show_cut(const char *s, char *buf, size_t len, int columns);
const char *text_show(const char *s, char *buf, size_t len);
/* A JSON string of s made valid UTF-8 (NULL only when out of memory). */
json_object *text_json(const char *s);
/*
 * Write a JSON document, pretty, and a newline. json-c escapes U+0000-U+001F
 * only; DEL and the C1 controls (U+0080-U+009F, which some terminals act on)
 * are written as \u escapes too, so the document is the same data.
 */
void text_json_print(FILE *f, json_object *root);

#endif
