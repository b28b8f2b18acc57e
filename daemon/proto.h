/* SPDX-License-Identifier: MIT */
/*
 * The joulesd wire protocol and shared page: one header for the daemon,
 * the library's daemon source and the fuzz target. docs/protocol.md is
 * the prose version of this file; keep them together.
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET socket, so every request and reply
 * is one message with its boundaries kept by the kernel. Every message
 * starts with struct jld_header; integers are in the host's byte order
 * (a Unix socket never leaves the machine).
 */
#ifndef JOULES_DAEMON_PROTO_H
#define JOULES_DAEMON_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JLD_MAGIC 0x31444c4au /* "JLD1" in memory on little-endian */
#define JLD_VERSION 1u
#define JLD_DEFAULT_SOCKET "/run/joules/joules.sock"

/* The largest request the daemon accepts; anything longer is refused. */
#define JLD_MAX_REQUEST 64u
/* Sensor records per JLD_SENSORS reply. */
#define JLD_SENSORS_PER_REPLY 32u
/* Sensors one daemon serves at most (bounds every reply and the page). */
#define JLD_MAX_SENSORS 256u

enum jld_type {
	JLD_HELLO = 1,    /* request: nothing; reply: struct jld_hello */
	JLD_SENSORS = 2,  /* request: struct jld_sensors_req; reply: jld_sensors_reply + records */
	JLD_PAGE = 3,     /* request: nothing; reply: jld_page_reply + the page's fd (SCM_RIGHTS) */
	JLD_SNAPSHOT = 4, /* request: nothing; reply: jld_snapshot_reply + jld_slot[n] */
	JLD_ERROR = 127,  /* reply only: struct jld_error */
};
/* A reply's type is the request's with this bit set (JLD_ERROR aside). */
#define JLD_REPLY 0x8000u

/* Error codes in struct jld_error. Numbers never change. */
enum jld_errcode {
	JLD_E_MALFORMED = 1, /* shorter than a header, bad magic, or length disagrees */
	JLD_E_VERSION = 2,   /* the header's version is not one this daemon speaks */
	JLD_E_UNKNOWN = 3,   /* unknown request type */
	JLD_E_TOO_BIG = 4,   /* longer than JLD_MAX_REQUEST */
	JLD_E_DENIED = 5,    /* the peer is not allowed (not root, not in the group) */
	JLD_E_RATE = 6,      /* this uid sent too many requests; retry after `detail` ms */
	JLD_E_RANGE = 7,     /* a sensor index beyond the list */
	JLD_E_BUSY = 8,      /* too many connections; retry later */
	JLD_E_INTERNAL = 9,  /* the daemon failed (out of memory); retry later */
};

struct jld_header {
	uint32_t magic;   /* JLD_MAGIC */
	uint16_t version; /* JLD_VERSION */
	uint16_t type;    /* enum jld_type, | JLD_REPLY in replies */
	uint32_t length;  /* of the whole message, header included */
	uint32_t tag;     /* chosen by the client, echoed in the reply */
};

struct jld_sensors_req {
	uint32_t first; /* index of the first sensor wanted */
	uint32_t reserved;
};

/* Access a connection has: what it may ask for. */
enum jld_access {
	JLD_ACCESS_FULL = 1,   /* every sensor at full resolution */
	JLD_ACCESS_PUBLIC = 2, /* the public totals only (1 J, 1 s) */
};

struct jld_hello {
	uint32_t version;     /* JLD_VERSION */
	uint32_t access;      /* enum jld_access */
	uint32_t n_sensors;
	uint32_t page_size;   /* bytes to map */
	uint64_t interval_ns; /* how often the page is updated */
	uint64_t generation;  /* changes every time the daemon starts */
	uint32_t rate_per_s;  /* requests per second per uid before JLD_E_RATE */
	uint32_t reserved;
};

/* One sensor's metadata; the fields mean what struct joules_sensor's do. */
struct jld_sensor {
	char id[64];
	char name[64];
	char source[16];
	char device[64];
	int32_t kind;
	int32_t parent; /* index in the daemon's list, or -1 */
	uint32_t flags; /* JOULES_SENSOR_* as the daemon sees the sensor */
	uint32_t resolution_uj;
	uint64_t range_uj;
	uint64_t max_power_uw;
	uint64_t wrap_period_ns;
	uint32_t refresh_us;
	uint32_t reserved;
	/*
	 * The physical domain measured (lib/internal.h, struct jl_domain), so
	 * a client merges it with what its own sources see of that domain.
	 */
	int32_t dom_package;  /* -1: none */
	int32_t dom_die;      /* -1: the whole package */
	int32_t dom_cpu;      /* -1: none */
	uint32_t dom_instance;
	uint32_t dom_alone;   /* 1: no other candidate can be this domain */
	uint32_t reserved2;
	char dom_device[64];  /* a device's bus address, or "" */
	char dom_part[32];
	char dom_within[32];
};

struct jld_sensors_reply {
	uint32_t total; /* sensors the daemon serves */
	uint32_t first;
	uint32_t count; /* records that follow */
	uint32_t reserved;
};

struct jld_page_reply {
	uint32_t page_size;
	uint32_t n_sensors;
	uint64_t generation;
};

struct jld_error {
	int32_t code;    /* enum jld_errcode */
	uint32_t detail; /* JLD_E_VERSION: the version spoken; JLD_E_RATE: ms to wait */
};

/*
 * One reading as the daemon published it: the library's struct
 * joules_reading, field for field.
 */
struct jld_slot {
	uint64_t energy_uj; /* extended cumulative counter */
	uint64_t time_ns;   /* CLOCK_MONOTONIC of the daemon's read */
	uint32_t uncertainty_uj;
	uint32_t resets;
	int32_t status; /* 0 or a negative enum joules_error */
	uint32_t flags; /* JOULES_READING_* */
};

struct jld_snapshot_reply {
	uint64_t update_ns;
	uint64_t generation;
	uint32_t n;
	uint32_t reserved;
	/* then n struct jld_slot, and n uint64_t power_uw */
};

/*
 * The shared page: a sealed memfd, written only by the daemon. A header,
 * then n_sensors struct jld_page_sensor. The whole page is guarded by one
 * sequence counter (seqlock): odd while the daemon writes.
 */
#define JLD_PAGE_MAGIC 0x4750534au /* "JSPG" */
#define JLD_PAGE_VERSION 1u
#define JLD_RING 8u /* past readings kept per sensor, newest at `head` */

enum jld_page_state {
	JLD_PAGE_LIVE = 1,
	JLD_PAGE_STOPPED = 2, /* the daemon exited cleanly: nothing more will come */
};

struct jld_page_header {
	uint32_t magic;   /* JLD_PAGE_MAGIC */
	uint32_t version; /* JLD_PAGE_VERSION */
	uint32_t n_sensors;
	uint32_t state;   /* enum jld_page_state */
	uint64_t seq;     /* seqlock */
	uint64_t update_ns;   /* CLOCK_MONOTONIC of the last update */
	uint64_t interval_ns; /* updates are this far apart */
	uint64_t generation;  /* as in struct jld_hello */
	uint64_t updates;     /* updates so far */
	uint64_t reserved;
};

struct jld_page_sensor {
	uint64_t power_uw; /* over the last two readings */
	uint32_t head;     /* index of the newest slot in ring[] */
	uint32_t count;    /* slots filled, up to JLD_RING */
	uint64_t reserved[2];
	struct jld_slot ring[JLD_RING];
};

/* Bytes of a page for n sensors, a whole number of 4 KiB pages. */
size_t jld_page_size(uint32_t n_sensors);

/* A parsed request. */
struct jld_request {
	uint16_t type;
	uint32_t tag;
	uint32_t first; /* JLD_SENSORS */
};

/*
 * Parse one request message of `len` bytes (`truncated`: the message was
 * longer than the buffer, MSG_TRUNC). Pure: no I/O, no allocation, any
 * input. Returns 0 with *out filled, or an enum jld_errcode; out->tag is
 * filled whenever the header was long enough to hold it.
 */
int jld_parse_request(const void *buf, size_t len, bool truncated, struct jld_request *out);

/* Fill a header for a message of `length` bytes. */
void jld_header_init(struct jld_header *h, uint16_t type, uint32_t length, uint32_t tag);

/*
 * Check a reply to a request of type `type` and tag `tag`: 0 when it is
 * that reply with at least `min_len` bytes; an enum jld_errcode from a
 * JLD_ERROR reply (detail in *detail); -1 when it is not a reply at all.
 */
int jld_check_reply(const void *buf, size_t len, uint16_t type, uint32_t tag, size_t min_len,
		    uint32_t *detail);

/* What an error code means, for messages. */
const char *jld_errcode_name(int code);

/*
 * Seqlock access to the page. The daemon's stores and the clients' loads
 * of every field after the header's seq are relaxed atomics, ordered by
 * the fences around seq, so neither side ever reads a torn value.
 */
static inline uint64_t jld_load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline uint32_t jld_load32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline void jld_store64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}
static inline void jld_store32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Begin a read: the sequence number, or odd when the daemon is writing. */
static inline uint64_t jld_read_begin(const struct jld_page_header *h)
{
	return __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
}
/* End a read begun at `seq`: true when what was read is consistent. */
static inline bool jld_read_ok(const struct jld_page_header *h, uint64_t seq)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return !(seq & 1) && __atomic_load_n(&h->seq, __ATOMIC_RELAXED) == seq;
}

/* Copy one slot with relaxed loads (inside a read_begin/read_ok pair). */
static inline void jld_slot_load(struct jld_slot *dst, const struct jld_slot *src)
{
	dst->energy_uj = jld_load64(&src->energy_uj);
	dst->time_ns = jld_load64(&src->time_ns);
	dst->uncertainty_uj = jld_load32(&src->uncertainty_uj);
	dst->resets = jld_load32(&src->resets);
	dst->status = (int32_t)jld_load32((const uint32_t *)&src->status);
	dst->flags = jld_load32(&src->flags);
}

static inline struct jld_page_sensor *jld_page_sensors(struct jld_page_header *h)
{
	return (struct jld_page_sensor *)(h + 1);
}
static inline const struct jld_page_sensor *jld_page_sensors_ro(const struct jld_page_header *h)
{
	return (const struct jld_page_sensor *)(h + 1);
}

#endif
