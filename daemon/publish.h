/* SPDX-License-Identifier: MIT */
/*
 * What joulesd serves: the sensors it reads (through libjoules, opened as
 * root before the privilege drop), polled at the interval into the full
 * page, and, with --public, the coarse totals of the public page.
 */
#ifndef JOULESD_PUBLISH_H
#define JOULESD_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>

#include "joules.h"
#include "page.h"
#include "proto.h"

/* The public page: whole joules, at most one update per second. */
#define PUBLIC_RESOLUTION_UJ 1000000ull
#define PUBLIC_INTERVAL_NS 1000000000ull
/* Totals the public page serves: CPU packages, DRAM, GPUs. */
#define PUBLIC_TOTALS 3

struct view {
	struct page page;
	uint32_t n;
	struct jld_sensor *meta; /* n records sent by JLD_SENSORS */
};

struct publisher {
	joules_ctx *ctx;
	size_t n_lib;                  /* sensors of the library context */
	struct joules_reading *buf;    /* n_lib readings of the last poll */
	uint32_t *lib_index;           /* full view's sensor i = library sensor lib_index[i] */
	uint64_t interval_ns;          /* poll interval actually used */
	uint64_t generation;
	struct view full;
	bool public_on;
	struct view pub;
	uint32_t pub_kind[PUBLIC_TOTALS]; /* the kind each public total sums */
	uint64_t next_public_ns;
};

/*
 * Open every sensor through libjoules (as root: every file is opened now),
 * choose the poll interval (at most interval_ns, and at most half the
 * shortest wrap period so no wrap goes unseen), make the pages. Returns 0
 * or -1 with `err` set.
 */
int publisher_open(struct publisher *p, uint64_t interval_ns, bool public_on, char *err,
		   size_t err_len);
/* Read every sensor once and publish (clients never cause a read). */
void publisher_poll(struct publisher *p, uint64_t now_ns);
/* Mark the pages stopped (clean exit). */
void publisher_stop(struct publisher *p);
void publisher_close(struct publisher *p);

#endif
