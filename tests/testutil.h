/* SPDX-License-Identifier: MIT */
/* What every C test of a backend does: build a fake tree, open it, find sensors. */
#ifndef JOULES_TESTUTIL_H
#define JOULES_TESTUTIL_H

#include "fakesys.h"
#include "joules.h"

/* A fresh tree holding the given layouts (a NULL-terminated list); checks each. */
struct fakesys *test_tree(const char *const layouts[]);
#define TEST_TREE(...) test_tree((const char *const[]){__VA_ARGS__, NULL})

/* A context on the tree; a failed check (and NULL) if it does not open. */
joules_ctx *test_open(const struct fakesys *fs);

/* Index of a sensor that must exist; a failed check (and -1) if it does not. */
int test_find(const joules_ctx *ctx, const char *id);

#endif
