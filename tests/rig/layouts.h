/* SPDX-License-Identifier: MIT */
/* Layout builders, one group per area; each returns 0 or -1. */
#ifndef JOULES_LAYOUTS_H
#define JOULES_LAYOUTS_H

struct fakesys;

/* layouts_powercap.c */
int layout_intel_2s(struct fakesys *fs);
int layout_amd_zen(struct fakesys *fs);
int layout_laptop(struct fakesys *fs);
int layout_messy_powercap(struct fakesys *fs);

#endif
