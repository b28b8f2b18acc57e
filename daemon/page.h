/* SPDX-License-Identifier: MIT */
/* The shared page: a sealed memfd the daemon writes and clients map read-only. */
#ifndef JOULESD_PAGE_H
#define JOULESD_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct page {
	int fd;
	size_t size;
	struct jld_page_header *h; /* the daemon's writable mapping */
};

/*
 * Make a page for n sensors: memfd_create, size it, map it writable, fill
 * the header, then seal it (F_SEAL_FUTURE_WRITE, SHRINK, GROW, SEAL), so
 * that a process given the fd can only map it read-only and never resize
 * it. Returns 0, or -errno with `err` saying which call failed.
 */
int page_create(struct page *p, const char *name, uint32_t n_sensors, uint64_t interval_ns,
		uint64_t generation, char *err, size_t err_len);

/* Start an update (seq becomes odd). */
void page_begin(struct page *p);
/* Publish sensor i's reading and its recent power. */
void page_put(struct page *p, uint32_t i, const struct jld_slot *slot, uint64_t power_uw);
/* End an update at `now_ns` (seq becomes even: readers see it whole). */
void page_end(struct page *p, uint64_t now_ns);
/* Mark the page stopped: clients stop waiting for updates. */
void page_stop(struct page *p);
void page_destroy(struct page *p);

#endif
