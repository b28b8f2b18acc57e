/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for joulesd's request parser (daemon/proto.c), the
 * only code that reads bytes from an untrusted peer. Build and run:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Idaemon \
 *     fuzz/fuzz_proto.c daemon/proto.c -o /tmp/fuzz_proto && /tmp/fuzz_proto -max_total_time=30
 * Besides not crashing, it checks what the parser promises: a request it
 * accepts has the exact length of its type, and a known type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* The first byte says whether the kernel flagged the message truncated. */
	bool truncated = data[0] & 1;
	data++;
	size--;
	struct jld_request rq;
	int r = jld_parse_request(data, size, truncated, &rq);
	if (r == 0) {
		struct jld_header h;
		if (size < sizeof h || truncated)
			abort();
		memcpy(&h, data, sizeof h);
		size_t want = sizeof h + (rq.type == JLD_SENSORS ? sizeof(struct jld_sensors_req) : 0);
		if (h.length != size || size != want || rq.type < JLD_HELLO || rq.type > JLD_SNAPSHOT ||
		    rq.first >= JLD_MAX_SENSORS)
			abort();
	} else if (r < JLD_E_MALFORMED || r > JLD_E_INTERNAL) {
		abort();
	}
	/* The reply checker faces a daemon that may be anything too. */
	uint32_t detail;
	jld_check_reply(data, size, JLD_HELLO, 7, sizeof(struct jld_header), &detail);
	return 0;
}
