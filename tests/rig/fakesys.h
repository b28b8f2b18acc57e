/* SPDX-License-Identifier: MIT */
/*
 * The fake-hardware rig: real sysfs-like trees in a temp dir, pointed at
 * with JOULES_SYSFS_ROOT, whose counters tests advance, wrap, reset, break
 * and delete while the library reads them.
 *
 * Files are rewritten in place (pwrite at 0, then ftruncate), as sysfs
 * attributes behave: a reader holding the file open sees each new value,
 * and a reader racing a shorter write still sees "digits\n" first.
 * All functions return 0 or -1 (errno set) unless said otherwise.
 */
#ifndef JOULES_FAKESYS_H
#define JOULES_FAKESYS_H

#include <stdint.h>
#include <sys/types.h>

struct fakesys;

/* A new empty tree in a fresh temp dir (mode 0755, so any user can look). */
struct fakesys *fakesys_new(void);
/* A handle on an existing tree (made earlier, e.g. by `fakesys new`). */
struct fakesys *fakesys_attach(const char *root);
/* Free the handle, leaving the tree. NULL is allowed. */
void fakesys_detach(struct fakesys *fs);
/* Remove the tree and free. NULL is allowed. */
void fakesys_free(struct fakesys *fs);
/* The root to put in JOULES_SYSFS_ROOT. */
const char *fakesys_root(const struct fakesys *fs);

/* Build a named layout (see fakesys_layouts below); -1/EINVAL if unknown. */
int fakesys_layout(struct fakesys *fs, const char *name);
/* The known layout names, NULL-terminated. */
extern const char *const fakesys_layouts[];

/* Low-level: `rel` is relative to the root; parent directories are made. */
int fakesys_write(struct fakesys *fs, const char *rel, const char *content);
int fakesys_write_u64(struct fakesys *fs, const char *rel, uint64_t v);
/* Read a decimal counter back. */
int fakesys_read_u64(struct fakesys *fs, const char *rel, uint64_t *v);
/*
 * Add `delta` to a counter that wraps to 0 on reaching `modulus`
 * (0: never wraps). The new value is written in place.
 */
int fakesys_advance(struct fakesys *fs, const char *rel, uint64_t delta, uint64_t modulus);
/*
 * Make a file vanish as a sysfs attribute does when its device goes: it is
 * emptied (so a reader's open fd reads nothing) and unlinked.
 */
int fakesys_remove(struct fakesys *fs, const char *rel);
int fakesys_chmod(struct fakesys *fs, const char *rel, mode_t mode);
int fakesys_mkdir(struct fakesys *fs, const char *rel);
/* A symlink at `rel` pointing to `target` (taken as is: may dangle). */
int fakesys_symlink(struct fakesys *fs, const char *rel, const char *target);

/*
 * A powercap zone: class/powercap/<dir>/{name,energy_uj,max_energy_range_uj,
 * enabled}. max_range_uj 0 leaves max_energy_range_uj out.
 */
int fakesys_powercap_zone(struct fakesys *fs, const char *dir, const char *name,
			  uint64_t energy_uj, uint64_t max_range_uj);

/* The max_energy_range_uj of the layouts' zones: a real Intel value. */
#define FAKESYS_RAPL_RANGE_UJ 262143328850ull

#endif
