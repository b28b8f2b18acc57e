/* SPDX-License-Identifier: MIT */
/*
 * fakesys: the rig from the shell, for tests written as scripts.
 *   fakesys new LAYOUT...        make a tree, print its root
 *   fakesys ROOT write REL TEXT  fakesys ROOT advance REL DELTA MODULUS
 *   fakesys ROOT remove REL      fakesys ROOT chmod REL OCTAL
 *   fakesys ROOT layout NAME     fakesys layouts
 * Trees made by `new` are left for the caller to delete.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

static int fail(const char *what)
{
	fprintf(stderr, "fakesys: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "layouts") == 0) {
		for (size_t i = 0; fakesys_layouts[i]; i++)
			puts(fakesys_layouts[i]);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "new") == 0) {
		struct fakesys *fs = fakesys_new();
		if (!fs)
			return fail("new");
		for (int i = 2; i < argc; i++)
			if (fakesys_layout(fs, argv[i]) < 0)
				return fail(argv[i]);
		puts(fakesys_root(fs));
		fakesys_detach(fs); /* keep the tree */
		return 0;
	}
	if (argc < 4) {
		fputs("usage: fakesys new LAYOUT... | fakesys layouts | fakesys ROOT CMD ARGS\n", stderr);
		return 2;
	}
	struct fakesys *fs = fakesys_attach(argv[1]);
	if (!fs)
		return fail(argv[1]);
	const char *cmd = argv[2], *rel = argv[3];
	int r;
	if (strcmp(cmd, "write") == 0 && argc == 5)
		r = fakesys_write(fs, rel, argv[4]);
	else if (strcmp(cmd, "advance") == 0 && argc == 6)
		r = fakesys_advance(fs, rel, strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10));
	else if (strcmp(cmd, "remove") == 0 && argc == 4)
		r = fakesys_remove(fs, rel);
	else if (strcmp(cmd, "chmod") == 0 && argc == 5)
		r = fakesys_chmod(fs, rel, (mode_t)strtoul(argv[4], NULL, 8));
	else if (strcmp(cmd, "layout") == 0 && argc == 4)
		r = fakesys_layout(fs, rel);
	else {
		fprintf(stderr, "fakesys: bad command '%s'\n", cmd);
		return 2;
	}
	int rc = r < 0 ? fail(rel) : 0;
	fakesys_detach(fs);
	return rc;
}
