/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: sysfs values as libjoules reads them. The input is a
 * file's content: jl_parse_u64 on it as a string, jl_pread_u64 on it as a
 * file (a memfd: a regular file, read through the real pread path with a
 * buffer shorter and longer than the input), and jl_read_text through
 * /proc/self/fd. Checks what each promises: a parsed value is exactly the
 * digits (printed back, it is the input without trailing whitespace), a
 * refusal leaves the output untouched, message text stays printable.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sysfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

static void check_parse(const char *s)
{
	uint64_t v = 42;
	if (jl_parse_u64(s, &v) != 0) {
		if (v != 42)
			abort();
		return;
	}
	/* Accepted: digits (leading zeros allowed), then only whitespace. */
	char back[32];
	snprintf(back, sizeof back, "%" PRIu64, v);
	const char *p = s;
	while (*p == '0' && isdigit((unsigned char)p[1]))
		p++;
	size_t n = strlen(back);
	if (strncmp(p, back, n) != 0)
		abort();
	for (p += n; *p; p++)
		if (!isspace((unsigned char)*p))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_parse(s);
	free(s);

	if (memfd < 0)
		memfd = memfd_create("sysfs-value", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, 0) < 0 ||
	    (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
		return 0;
	static const size_t lens[] = {2, 23, 32, 4096};
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
		char text[4096];
		uint64_t v = 42;
		int e = -1;
		int r = jl_pread_u64(memfd, &v, text, lens[k], &e);
		if (r != 0 && v != 42)
			abort();
		if (r != 0 && r != JOULES_ERR_PARSE)
			abort();
		if (r == 0 && size >= lens[k] - 1)
			abort(); /* a value that filled the buffer was taken as its prefix */
		for (size_t i = 0; r && text[i]; i++)
			if (!isprint((unsigned char)text[i]))
				abort();
		if (!jl_sysfs_why(r, e))
			abort();
	}
	char path[64], buf[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	int e;
	int n = jl_read_text(path, buf, sizeof buf, &e);
	if (n >= 0 && ((size_t)n >= sizeof buf || strlen(buf) != (size_t)n))
		abort();
	return 0;
}
