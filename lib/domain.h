/* SPDX-License-Identifier: MIT */
/*
 * The domain model (docs/design.md, "Domains"): sources report candidates,
 * each naming the physical domain it measures (struct jl_domain); here the
 * candidates of one domain become one sensor, read by the best reader, and
 * each sensor is placed inside the one whose energy contains it.
 */
#ifndef JOULES_DOMAIN_H
#define JOULES_DOMAIN_H

#include "internal.h"

/*
 * The sensor's id, name and device from its domain: a CPU domain names
 * itself ("rapl:package-0", "package-0", "socket 0"; a die
 * "rapl:package-0-die-1" on "socket 0 die 1"); any other takes the id and
 * name given, and its device is the domain's.
 */
void jl_domain_name(const struct jl_domain *dom, const char *id, const char *name,
		    struct joules_sensor *pub);

/*
 * After every source has enumerated: merge the candidates of each domain
 * into one sensor (the reader: readable first, then a counter over
 * integrated power, then the cheaper read; `also` names the others, which
 * are released), make ids unique, set every parent from the containment
 * rule, and note a source whose every candidate went to another. Returns 0
 * or JOULES_ERR_NOMEM (the context is then closed by the caller).
 */
int jl_domains_merge(joules_ctx *ctx);

#endif
