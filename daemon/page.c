/* SPDX-License-Identifier: MIT */
/*
 * The page clients map: one writer (the daemon's poll loop), any number of
 * readers, guarded by a seqlock in the header. Sealed after creation (see
 * ../shared FACTS: a receiver gets EPERM for a shared writable mmap, for
 * write and ftruncate), so a client can read it and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "page.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010 /* Linux 5.1 */
#endif

int page_create(struct page *p, const char *name, uint32_t n_sensors, uint64_t interval_ns,
		uint64_t generation, char *err, size_t err_len)
{
	*p = (struct page){.fd = -1};
	const char *call = "memfd_create";
	size_t size = jld_page_size(n_sensors);
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		goto fail;
	call = "ftruncate";
	if (ftruncate(fd, (off_t)size) < 0)
		goto fail;
	call = "mmap";
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		goto fail;
	struct jld_page_header *h = m;
	h->magic = JLD_PAGE_MAGIC;
	h->version = JLD_PAGE_VERSION;
	h->n_sensors = n_sensors;
	h->state = JLD_PAGE_LIVE;
	h->interval_ns = interval_ns;
	h->generation = generation;
	call = "fcntl(F_ADD_SEALS)";
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int e = errno;
		munmap(m, size);
		errno = e;
		goto fail;
	}
	*p = (struct page){.fd = fd, .size = size, .h = h};
	return 0;
fail:;
	int e = errno;
	snprintf(err, err_len, "%s for the shared page failed: %s (needs Linux 5.1 or later)", call,
		 strerror(e));
	if (fd >= 0)
		close(fd);
	return -e;
}

void page_begin(struct page *p)
{
	uint64_t seq = __atomic_load_n(&p->h->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&p->h->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

void page_put(struct page *p, uint32_t i, const struct jld_slot *slot, uint64_t power_uw)
{
	struct jld_page_sensor *s = &jld_page_sensors(p->h)[i];
	uint32_t head = (jld_load32(&s->head) + 1) % JLD_RING;
	struct jld_slot *d = &s->ring[head];
	jld_store64(&d->energy_uj, slot->energy_uj);
	jld_store64(&d->time_ns, slot->time_ns);
	jld_store32(&d->uncertainty_uj, slot->uncertainty_uj);
	jld_store32(&d->resets, slot->resets);
	jld_store32((uint32_t *)&d->status, (uint32_t)slot->status);
	jld_store32(&d->flags, slot->flags);
	jld_store64(&s->power_uw, power_uw);
	jld_store32(&s->head, head);
	uint32_t count = jld_load32(&s->count);
	if (count < JLD_RING)
		jld_store32(&s->count, count + 1);
}

void page_end(struct page *p, uint64_t now_ns)
{
	jld_store64(&p->h->update_ns, now_ns);
	jld_store64(&p->h->updates, jld_load64(&p->h->updates) + 1);
	uint64_t seq = __atomic_load_n(&p->h->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&p->h->seq, seq + 1, __ATOMIC_RELEASE);
}

void page_stop(struct page *p)
{
	if (!p->h)
		return;
	page_begin(p);
	jld_store32(&p->h->state, JLD_PAGE_STOPPED);
	uint64_t seq = __atomic_load_n(&p->h->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&p->h->seq, seq + 1, __ATOMIC_RELEASE);
}

void page_destroy(struct page *p)
{
	if (p->h)
		munmap(p->h, p->size);
	if (p->fd >= 0)
		close(p->fd);
	*p = (struct page){.fd = -1};
}
