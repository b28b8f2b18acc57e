/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 (RFC 3629): what a valid character is, and text fields made valid.
 * Also compiled into the joules command (cli/text.c, cli/trace.c).
 */
#ifndef JOULES_UTF8_H
#define JOULES_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Length (1-4) of the valid character at s, of which n bytes are there, and
 * its code point in *cp; 0 when s does not start with one: a stray
 * continuation byte, an overlong form, a surrogate, a value past U+10FFFF,
 * or a character cut short by the end of the n bytes.
 */
size_t jl_utf8_char(const char *s, size_t n, uint32_t *cp);

/* Whether s[0..n) is the start of a valid character cut short (n ≥ 1). */
bool jl_utf8_cut_short(const char *s, size_t n);

/*
 * Make a NUL-terminated field valid UTF-8 in place: every byte that is not
 * part of a valid character is dropped. A field cut to fit its buffer
 * (snprintf "%.58s") ends or continues mid-character; dropping the partial
 * character makes that a cut between characters.
 */
void jl_utf8_clean(char *s);

#endif
