/* SPDX-License-Identifier: MIT */
/* joulesd's request parser and reply checker (daemon/proto.c): every shape of bad input. */
#include "harness.h"
#include "proto.h"

static size_t make(unsigned char *buf, uint16_t type, uint32_t body_len, uint32_t tag)
{
	struct jld_header h;
	jld_header_init(&h, type, (uint32_t)sizeof h + body_len, tag);
	memcpy(buf, &h, sizeof h);
	memset(buf + sizeof h, 0, body_len);
	return sizeof h + body_len;
}

static void test_good_requests(void)
{
	unsigned char b[64];
	struct jld_request rq;
	const uint16_t plain[] = {JLD_HELLO, JLD_PAGE, JLD_SNAPSHOT};
	for (size_t i = 0; i < 3; i++) {
		size_t n = make(b, plain[i], 0, 42);
		CHECK_EQ_INT(jld_parse_request(b, n, false, &rq), 0);
		CHECK_EQ_INT(rq.type, plain[i]);
		CHECK_EQ_INT(rq.tag, 42);
	}
	size_t n = make(b, JLD_SENSORS, sizeof(struct jld_sensors_req), 9);
	struct jld_sensors_req req = {.first = 33};
	memcpy(b + sizeof(struct jld_header), &req, sizeof req);
	CHECK_EQ_INT(jld_parse_request(b, n, false, &rq), 0);
	CHECK_EQ_INT(rq.first, 33);
}

static void test_bad_requests_get_their_code(void)
{
	unsigned char b[128];
	struct jld_request rq;
	size_t n = make(b, JLD_HELLO, 0, 5);
	CHECK_EQ_INT(jld_parse_request(b, 0, false, &rq), JLD_E_MALFORMED);
	CHECK_EQ_INT(jld_parse_request(b, n - 1, false, &rq), JLD_E_MALFORMED);
	CHECK_EQ_INT(jld_parse_request(b, n, true, &rq), JLD_E_TOO_BIG);
	CHECK_EQ_INT(jld_parse_request(b, JLD_MAX_REQUEST + 1, false, &rq), JLD_E_TOO_BIG);
	/* Length field disagreeing with the message. */
	n = make(b, JLD_HELLO, 4, 5);
	CHECK_EQ_INT(jld_parse_request(b, n - 4, false, &rq), JLD_E_MALFORMED);
	/* A body where none belongs, and a short one where one does. */
	CHECK_EQ_INT(jld_parse_request(b, n, false, &rq), JLD_E_MALFORMED);
	n = make(b, JLD_SENSORS, 4, 5);
	CHECK_EQ_INT(jld_parse_request(b, n, false, &rq), JLD_E_MALFORMED);
	n = make(b, 77, 0, 5);
	CHECK_EQ_INT(jld_parse_request(b, n, false, &rq), JLD_E_UNKNOWN);
	n = make(b, JLD_HELLO, 0, 5);
	b[4] = 2; /* version */
	CHECK_EQ_INT(jld_parse_request(b, n, false, &rq), JLD_E_VERSION);
	CHECK_EQ_INT(rq.tag, 5);
	n = make(b, JLD_HELLO, 0, 5);
	b[0] ^= 0xff; /* magic */
	CHECK_EQ_INT(jld_parse_request(b, n, false, &rq), JLD_E_MALFORMED);
	n = make(b, JLD_SENSORS, sizeof(struct jld_sensors_req), 5);
	struct jld_sensors_req req = {.first = JLD_MAX_SENSORS};
	memcpy(b + sizeof(struct jld_header), &req, sizeof req);
	CHECK_EQ_INT(jld_parse_request(b, n, false, &rq), JLD_E_RANGE);
	req = (struct jld_sensors_req){.first = 0, .reserved = 1};
	memcpy(b + sizeof(struct jld_header), &req, sizeof req);
	CHECK_EQ_INT(jld_parse_request(b, n, false, &rq), JLD_E_MALFORMED);
}

static void test_reply_checks(void)
{
	unsigned char b[64];
	uint32_t detail = 0;
	size_t n = make(b, JLD_HELLO | JLD_REPLY, sizeof(struct jld_hello), 3);
	CHECK_EQ_INT(jld_check_reply(b, n, JLD_HELLO, 3, n, &detail), 0);
	CHECK_EQ_INT(jld_check_reply(b, n, JLD_HELLO, 4, n, &detail), -1);    /* tag */
	CHECK_EQ_INT(jld_check_reply(b, n, JLD_PAGE, 3, n, &detail), -1);     /* type */
	CHECK_EQ_INT(jld_check_reply(b, n, JLD_HELLO, 3, n + 1, &detail), -1); /* too short */
	CHECK_EQ_INT(jld_check_reply(b, n - 1, JLD_HELLO, 3, 0, &detail), -1); /* length */
	n = make(b, JLD_ERROR, sizeof(struct jld_error), 3);
	struct jld_error e = {.code = JLD_E_RATE, .detail = 250};
	memcpy(b + sizeof(struct jld_header), &e, sizeof e);
	CHECK_EQ_INT(jld_check_reply(b, n, JLD_HELLO, 3, 64, &detail), JLD_E_RATE);
	CHECK_EQ_INT(detail, 250);
}

static void test_page_size_is_whole_pages(void)
{
	CHECK_EQ_U64(jld_page_size(0), 4096);
	CHECK_EQ_U64(jld_page_size(14), 4096); /* 64 + 14 * 288 = 4096 */
	CHECK_EQ_U64(jld_page_size(15), 8192);
	CHECK(jld_page_size(JLD_MAX_SENSORS) >= 64 + JLD_MAX_SENSORS * sizeof(struct jld_page_sensor));
}

static const struct test tests[] = {
	TEST(test_good_requests),
	TEST(test_bad_requests_get_their_code),
	TEST(test_reply_checks),
	TEST(test_page_size_is_whole_pages),
};

int main(void)
{
	return run_tests(tests, sizeof tests / sizeof tests[0]);
}
