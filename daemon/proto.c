/* SPDX-License-Identifier: MIT */
/* The joulesd protocol's pure functions: parsing requests, checking replies. */
#include <string.h>

#include "proto.h"

_Static_assert(sizeof(struct jld_header) == 16, "wire layout");
_Static_assert(sizeof(struct jld_sensor) == 408, "wire layout");
_Static_assert(sizeof(struct jld_slot) == 32, "wire layout");
_Static_assert(sizeof(struct jld_page_header) == 64, "page layout");
_Static_assert(sizeof(struct jld_page_sensor) == 32 + 32 * JLD_RING, "page layout");

size_t jld_page_size(uint32_t n_sensors)
{
	size_t bytes = sizeof(struct jld_page_header) + (size_t)n_sensors * sizeof(struct jld_page_sensor);
	return (bytes + 4095) & ~(size_t)4095;
}

void jld_header_init(struct jld_header *h, uint16_t type, uint32_t length, uint32_t tag)
{
	*h = (struct jld_header){
		.magic = JLD_MAGIC,
		.version = JLD_VERSION,
		.type = type,
		.length = length,
		.tag = tag,
	};
}

/* Bytes of body each request type carries. */
static int body_size(uint16_t type, size_t *size)
{
	switch (type) {
	case JLD_HELLO:
	case JLD_PAGE:
	case JLD_SNAPSHOT:
		*size = 0;
		return 0;
	case JLD_SENSORS:
		*size = sizeof(struct jld_sensors_req);
		return 0;
	default:
		return JLD_E_UNKNOWN;
	}
}

int jld_parse_request(const void *buf, size_t len, bool truncated, struct jld_request *out)
{
	*out = (struct jld_request){0};
	if (truncated || len > JLD_MAX_REQUEST)
		return JLD_E_TOO_BIG;
	struct jld_header h;
	if (len < sizeof h)
		return JLD_E_MALFORMED;
	memcpy(&h, buf, sizeof h);
	if (h.magic != JLD_MAGIC)
		return JLD_E_MALFORMED;
	out->tag = h.tag;
	if (h.version != JLD_VERSION)
		return JLD_E_VERSION;
	if (h.length != len)
		return JLD_E_MALFORMED;
	size_t body;
	int r = body_size(h.type, &body);
	if (r)
		return r;
	if (len != sizeof h + body)
		return JLD_E_MALFORMED;
	out->type = h.type;
	if (h.type == JLD_SENSORS) {
		struct jld_sensors_req req;
		memcpy(&req, (const char *)buf + sizeof h, sizeof req);
		if (req.reserved != 0)
			return JLD_E_MALFORMED;
		if (req.first >= JLD_MAX_SENSORS)
			return JLD_E_RANGE;
		out->first = req.first;
	}
	return 0;
}

int jld_check_reply(const void *buf, size_t len, uint16_t type, uint32_t tag, size_t min_len,
		    uint32_t *detail)
{
	struct jld_header h;
	if (len < sizeof h)
		return -1;
	memcpy(&h, buf, sizeof h);
	if (h.magic != JLD_MAGIC || h.length != len || h.tag != tag)
		return -1;
	if (h.type == JLD_ERROR && len >= sizeof h + sizeof(struct jld_error)) {
		struct jld_error e;
		memcpy(&e, (const char *)buf + sizeof h, sizeof e);
		if (detail)
			*detail = e.detail;
		return e.code > 0 ? e.code : -1;
	}
	if (h.version != JLD_VERSION || h.type != (type | JLD_REPLY) || len < min_len)
		return -1;
	return 0;
}

const char *jld_errcode_name(int code)
{
	switch (code) {
	case JLD_E_MALFORMED: return "malformed request";
	case JLD_E_VERSION: return "protocol version not spoken";
	case JLD_E_UNKNOWN: return "unknown request";
	case JLD_E_TOO_BIG: return "request too long";
	case JLD_E_DENIED: return "access denied";
	case JLD_E_RATE: return "rate limit reached";
	case JLD_E_RANGE: return "sensor index out of range";
	case JLD_E_BUSY: return "too many connections";
	case JLD_E_INTERNAL: return "daemon error";
	default: return "not a joulesd reply";
	}
}
