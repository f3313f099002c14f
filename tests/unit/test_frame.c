// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for the frame codec (common/frame.c, crc.c, msg_types.c,
 * status.c): round trips, the incremental parser fed in pieces, and every
 * kind of hostile input the decoder must reject.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bs/frame.h"
#include "bs/msg_types.h"
#include "bs/status.h"
#include "proto/msg.pb-c.h"

/* Build a header with a valid header crc (payload crc as given). */
static void make_header(uint8_t *out, uint16_t type, uint16_t flags,
			uint32_t msg_len, uint32_t data_len, uint32_t pcrc)
{
	struct bs_frame_header h = {
		.magic = BS_FRAME_MAGIC, .type = type, .flags = flags,
		.req_id = 7, .msg_len = msg_len, .data_len = data_len,
		.payload_crc = pcrc,
	};

	bs_frame_header_encode(&h, out);
}

/* Encode a PING frame with @nonce and @dlen bytes of patterned data. */
static uint8_t *make_ping(uint64_t nonce, size_t dlen, size_t *total)
{
	Bs__Ping ping = BS__PING__INIT;
	struct iovec iov;
	uint8_t *buf, *data;
	size_t hsz;
	int n;

	ping.nonce = nonce;
	ping.sent_us = 12345;
	hsz = bs_frame_encoded_size(&ping.base);
	buf = malloc(hsz + dlen);
	assert_non_null(buf);
	data = buf + hsz;
	for (size_t i = 0; i < dlen; i++)
		data[i] = (uint8_t)(i * 31 + nonce);
	iov.iov_base = data;
	iov.iov_len = dlen;
	n = bs_frame_encode(buf, BS_MSG_PING, 0, nonce, &ping.base, &iov, 1);
	assert_int_equal(n, (int)hsz);
	*total = hsz + dlen;
	return buf;
}

static void check_ping(struct bs_msg *m, uint64_t nonce, size_t dlen)
{
	Bs__Ping *ping;

	assert_non_null(m);
	assert_int_equal(m->hdr.type, BS_MSG_PING);
	assert_int_equal(m->hdr.req_id, nonce);
	assert_int_equal(m->hdr.data_len, dlen);
	ping = (Bs__Ping *)m->body;
	assert_non_null(ping);
	assert_int_equal(ping->nonce, nonce);
	assert_int_equal(ping->sent_us, 12345);
	for (size_t i = 0; i < dlen; i++)
		if (m->data[i] != (uint8_t)(i * 31 + nonce))
			fail_msg("data byte %zu differs", i);
	if (!dlen)
		assert_null(m->data);
}

/* Feed @buf in chunks of @chunk bytes; returns the first error or 0. */
static int feed(struct bs_frame_parser *p, const uint8_t *buf, size_t len,
		size_t chunk, struct bs_msg **msgs, int max, int *nmsgs,
		struct bs_error *err)
{
	size_t pos = 0;

	*nmsgs = 0;
	while (pos < len) {
		size_t n = BS_MIN(chunk, len - pos), off = 0;

		while (off < n) {
			struct bs_msg *m;
			size_t used;
			int ret;

			ret = bs_frame_parse(p, buf + pos + off, n - off,
					     &used, &m, err);
			if (ret)
				return ret;
			assert_true(used <= n - off);
			off += used;
			if (m) {
				assert_true(*nmsgs < max);
				msgs[(*nmsgs)++] = m;
			} else {
				assert_int_equal(off, n);
			}
		}
		pos += n;
	}
	return 0;
}

static void test_crc32c_check_value_and_chaining(void **state)
{
	const char *s = "123456789";

	assert_int_equal(bs_crc32c(0, s, 9), 0xe3069283u);
	assert_int_equal(bs_crc32c(bs_crc32c(0, s, 4), s + 4, 5),
			 0xe3069283u);
	assert_int_equal(bs_crc32c(0, NULL, 0), 0);
	assert_int_equal(bs_crc32c(0x12345678u, s, 0), 0x12345678u);
}

static void test_frame_header_round_trip(void **state)
{
	struct bs_frame_header h = {
		.magic = BS_FRAME_MAGIC, .type = BS_MSG_PING,
		.flags = BS_FRAME_REPLY, .req_id = 0x0102030405060708ull,
		.msg_len = 10, .data_len = 20, .payload_crc = 0xdeadbeef,
	}, d;
	uint8_t buf[BS_FRAME_HEADER_SIZE];

	bs_frame_header_encode(&h, buf);
	/* little-endian on the wire */
	assert_memory_equal(buf, "BSLT", 4);
	assert_int_equal(buf[4], BS_MSG_PING);
	assert_int_equal(buf[8], 0x08);
	assert_int_equal(buf[15], 0x01);
	assert_int_equal(bs_frame_header_decode(buf, &d, NULL), 0);
	assert_memory_equal(&h, &d, sizeof(h));
}

static void test_frame_round_trip_whole_and_bytewise(void **state)
{
	static const size_t chunks[] = { 1, 3, 31, 32, 33, 4096, 1 << 20 };
	struct bs_frame_parser p;
	struct bs_msg *msgs[4];
	struct bs_error err = { 0 };
	size_t len;
	uint8_t *buf = make_ping(42, 5000, &len);
	int n;

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		bs_frame_parser_init(&p);
		assert_int_equal(feed(&p, buf, len, chunks[c], msgs, 4, &n,
				      &err), 0);
		assert_int_equal(n, 1);
		check_ping(msgs[0], 42, 5000);
		bs_msg_free(msgs[0]);
		bs_frame_parser_release(&p);
	}
	free(buf);
}

static void test_frame_several_frames_in_one_buffer(void **state)
{
	struct bs_frame_parser p;
	struct bs_msg *msgs[8];
	size_t len[3], total = 0, off = 0;
	uint8_t *f[3], *all;
	int n;

	f[0] = make_ping(1, 0, &len[0]);
	f[1] = make_ping(2, 100, &len[1]);
	f[2] = make_ping(3, 7, &len[2]);
	for (int i = 0; i < 3; i++)
		total += len[i];
	all = malloc(total);
	for (int i = 0; i < 3; i++) {
		memcpy(all + off, f[i], len[i]);
		off += len[i];
		free(f[i]);
	}
	for (size_t chunk = 1; chunk <= total; chunk = chunk * 2 + 1) {
		bs_frame_parser_init(&p);
		assert_int_equal(feed(&p, all, total, chunk, msgs, 8, &n,
				      NULL), 0);
		assert_int_equal(n, 3);
		check_ping(msgs[0], 1, 0);
		check_ping(msgs[1], 2, 100);
		check_ping(msgs[2], 3, 7);
		for (int i = 0; i < 3; i++)
			bs_msg_free(msgs[i]);
		bs_frame_parser_release(&p);
	}
	free(all);
}

static void test_frame_truncated_gives_no_message(void **state)
{
	struct bs_frame_parser p;
	struct bs_msg *msgs[1];
	size_t len;
	uint8_t *buf = make_ping(9, 300, &len);
	int n;

	/* every strict prefix: no message, no error, nothing leaked */
	for (size_t cut = 0; cut < len; cut++) {
		bs_frame_parser_init(&p);
		assert_int_equal(feed(&p, buf, cut, 7, msgs, 1, &n, NULL), 0);
		assert_int_equal(n, 0);
		bs_frame_parser_release(&p);
	}
	free(buf);
}

static void expect_reject(const uint8_t *buf, size_t len, int want,
			  const char *reason)
{
	struct bs_frame_parser p;
	struct bs_msg *msgs[1];
	struct bs_error err = { 0 };
	int n;

	bs_frame_parser_init(&p);
	assert_int_equal(feed(&p, buf, len, len, msgs, 1, &n, &err), want);
	assert_int_equal(n, 0);
	assert_int_equal(err.code, want);
	if (!strstr(err.msg, reason))
		fail_msg("error '%s' does not mention '%s'", err.msg, reason);
	assert_int_equal(p.state, BS_FP_ERROR);
	/* a failed stream stays failed */
	assert_int_equal(feed(&p, buf, len, len, msgs, 1, &n, NULL), -EPROTO);
	bs_frame_parser_release(&p);

	/* and the same byte by byte */
	bs_frame_parser_init(&p);
	assert_int_equal(feed(&p, buf, len, 1, msgs, 1, &n, NULL), want);
	bs_frame_parser_release(&p);
}

static void test_frame_decode_rejects_wrong_magic(void **state)
{
	size_t len;
	uint8_t *buf = make_ping(1, 10, &len);

	buf[0] ^= 0x20;
	expect_reject(buf, len, -EBADMSG, "magic");
	free(buf);
}

static void test_frame_decode_rejects_bad_header_crc(void **state)
{
	size_t len;
	uint8_t *buf = make_ping(1, 10, &len);

	buf[8] ^= 1;		/* req_id changed, crc not */
	expect_reject(buf, len, -EBADMSG, "header crc");
	free(buf);
}

static void test_frame_decode_rejects_bad_payload_crc(void **state)
{
	size_t len;
	uint8_t *buf = make_ping(1, 10, &len);

	buf[len - 1] ^= 0x80;	/* last data byte */
	expect_reject(buf, len, -EBADMSG, "payload crc");
	buf[len - 1] ^= 0x80;
	buf[BS_FRAME_HEADER_SIZE] ^= 0x01;	/* first body byte */
	expect_reject(buf, len, -EBADMSG, "payload crc");
	free(buf);
}

static void test_frame_decode_rejects_oversized_msg_len(void **state)
{
	uint8_t buf[BS_FRAME_HEADER_SIZE];

	make_header(buf, BS_MSG_PING, 0, BS_FRAME_MAX_MSG + 1, 0, 0);
	expect_reject(buf, sizeof(buf), -EMSGSIZE, "too long");
	make_header(buf, BS_MSG_PING, 0, UINT32_MAX, 0, 0);
	expect_reject(buf, sizeof(buf), -EMSGSIZE, "too long");
}

static void test_frame_decode_rejects_oversized_data_len(void **state)
{
	uint8_t buf[BS_FRAME_HEADER_SIZE];
	const struct bs_msg_type_info *ping = bs_msg_type_find(BS_MSG_PING);

	/* ERROR replies carry no data at all */
	make_header(buf, BS_MSG_ERROR, BS_FRAME_REPLY, 0, 1, 0);
	expect_reject(buf, sizeof(buf), -EMSGSIZE, "data segment");
	/* over the type's own limit */
	make_header(buf, BS_MSG_PING, 0, 0, ping->max_data + 1, 0);
	expect_reject(buf, sizeof(buf), -EMSGSIZE, "data segment");
	make_header(buf, BS_MSG_PING, 0, 0, UINT32_MAX, 0);
	expect_reject(buf, sizeof(buf), -EMSGSIZE, "data segment");
}

static void test_frame_decode_rejects_unknown_type(void **state)
{
	uint8_t buf[BS_FRAME_HEADER_SIZE];

	make_header(buf, 0, 0, 0, 0, 0);
	expect_reject(buf, sizeof(buf), -EPROTO, "unknown message type 0");
	make_header(buf, 99, 0, 0, 0, 0);
	expect_reject(buf, sizeof(buf), -EPROTO, "unknown message type 99");
	make_header(buf, 65535, 0, 0, 0, 0);
	expect_reject(buf, sizeof(buf), -EPROTO, "unknown message type");
}

static void test_frame_decode_rejects_unknown_flags(void **state)
{
	uint8_t buf[BS_FRAME_HEADER_SIZE];

	make_header(buf, BS_MSG_PING, 0x8000, 0, 0, 0);
	expect_reject(buf, sizeof(buf), -EPROTO, "flags");
	make_header(buf, BS_MSG_PING, BS_FRAME_REPLY | 0x0002, 0, 0, 0);
	expect_reject(buf, sizeof(buf), -EPROTO, "flags");
}

static void test_frame_decode_rejects_body_that_does_not_unpack(void **state)
{
	/* field 1 as a varint that never ends, with a valid crc */
	static const uint8_t body[] = { 0x08, 0xff, 0xff, 0xff };
	uint8_t buf[BS_FRAME_HEADER_SIZE + sizeof(body)];

	memcpy(buf + BS_FRAME_HEADER_SIZE, body, sizeof(body));
	make_header(buf, BS_MSG_PING, 0, sizeof(body), 0,
		    bs_crc32c(0, body, sizeof(body)));
	expect_reject(buf, sizeof(buf), -EBADMSG, "cannot unpack ping");
}

static void test_frame_decode_survives_random_bytes(void **state)
{
	struct bs_frame_parser p;
	uint8_t buf[512];
	unsigned seed = 12345;
	int rejected = 0;

	for (int iter = 0; iter < 5000; iter++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(buf));
		struct bs_msg *msgs[4];
		int n, ret;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand_r(&seed);
		/* half of them start with a valid magic to go deeper */
		if (iter & 1 && len >= 4)
			memcpy(buf, "BSLT", 4);
		bs_frame_parser_init(&p);
		ret = feed(&p, buf, len, 1 + iter % 64, msgs, 4, &n, NULL);
		if (ret)
			rejected++;
		for (int i = 0; i < n; i++)
			bs_msg_free(msgs[i]);
		bs_frame_parser_release(&p);
	}
	/* anything of 32+ bytes is rejected by magic or header crc */
	assert_true(rejected > 4000);
}

static void test_frame_parser_direct_data(void **state)
{
	struct bs_frame_parser p;
	struct bs_msg *m = NULL;
	size_t len, dlen = 3 << 20, used, want;
	uint8_t *buf = make_ping(5, dlen, &len), *dst;
	size_t hsz = len - dlen;

	bs_frame_parser_init(&p);
	assert_int_equal(bs_frame_parser_direct(&p, &dst), 0);
	/* header, body and the first 10 data bytes through the copy path */
	assert_int_equal(bs_frame_parse(&p, buf, hsz + 10, &used, &m, NULL),
			 0);
	assert_int_equal(used, hsz + 10);
	assert_null(m);
	want = bs_frame_parser_direct(&p, &dst);
	assert_int_equal(want, dlen - 10);
	memcpy(dst, buf + hsz + 10, 1000);
	assert_int_equal(bs_frame_parser_direct_done(&p, 1000, &m, NULL), 0);
	assert_null(m);
	want = bs_frame_parser_direct(&p, &dst);
	assert_int_equal(want, dlen - 1010);
	memcpy(dst, buf + hsz + 1010, want);
	assert_int_equal(bs_frame_parser_direct_done(&p, want + 1, &m, NULL),
			 -EINVAL);
	assert_int_equal(bs_frame_parser_direct_done(&p, want, &m, NULL), 0);
	check_ping(m, 5, dlen);
	bs_msg_free(m);
	assert_int_equal(bs_frame_parser_direct(&p, &dst), 0);
	bs_frame_parser_release(&p);
	free(buf);
}

static void test_frame_encode_rejects_bad_requests(void **state)
{
	Bs__Ping ping = BS__PING__INIT;
	Bs__ErrorReply er = BS__ERROR_REPLY__INIT;
	uint8_t out[256];
	static uint8_t big[1];
	struct iovec iov = { big, 1 };

	assert_int_equal(bs_frame_encode(out, 99, 0, 1, &ping.base, NULL, 0),
			 -EINVAL);
	assert_int_equal(bs_frame_encode(out, BS_MSG_PING, 0x4000, 1,
					 &ping.base, NULL, 0), -EINVAL);
	/* body of another schema */
	assert_int_equal(bs_frame_encode(out, BS_MSG_PING, 0, 1, &er.base,
					 NULL, 0), -EINVAL);
	/* ERROR carries no data */
	assert_int_equal(bs_frame_encode(out, BS_MSG_ERROR, BS_FRAME_REPLY, 1,
					 &er.base, &iov, 1), -EMSGSIZE);
	iov.iov_len = (size_t)BS_FRAME_MAX_DATA + 1;
	assert_int_equal(bs_frame_encode(out, BS_MSG_PING, 0, 1, &ping.base,
					 &iov, 1), -EMSGSIZE);
	assert_int_equal(bs_frame_encode(out, BS_MSG_PING, 0, 1, &ping.base,
					 NULL, 0), BS_FRAME_HEADER_SIZE);
}

static void test_frame_empty_body_round_trip(void **state)
{
	uint8_t out[BS_FRAME_HEADER_SIZE];
	struct bs_frame_parser p;
	struct bs_msg *m;
	size_t used;

	assert_int_equal(bs_frame_encoded_size(NULL), BS_FRAME_HEADER_SIZE);
	assert_int_equal(bs_frame_encode(out, BS_MSG_PING, BS_FRAME_REPLY, 3,
					 NULL, NULL, 0), BS_FRAME_HEADER_SIZE);
	bs_frame_parser_init(&p);
	assert_int_equal(bs_frame_parse(&p, out, sizeof(out), &used, &m,
					NULL), 0);
	assert_int_equal(used, sizeof(out));
	assert_non_null(m);
	assert_int_equal(m->hdr.flags, BS_FRAME_REPLY);
	assert_non_null(m->body);	/* defaults */
	assert_int_equal(((Bs__Ping *)m->body)->nonce, 0);
	bs_msg_free(m);
	bs_frame_parser_release(&p);
}

static void test_msg_type_table(void **state)
{
	const struct bs_msg_type_info *t;

	t = bs_msg_type_find(BS_MSG_PING);
	assert_non_null(t);
	assert_int_equal(t->type, BS_MSG_PING);
	assert_ptr_equal(t->desc, &bs__ping__descriptor);
	t = bs_msg_type_find(BS_MSG_ERROR);
	assert_non_null(t);
	assert_int_equal(t->max_data, 0);
	assert_null(bs_msg_type_find(0));
	assert_null(bs_msg_type_find(3));
	assert_null(bs_msg_type_find(65535));
	/* every entry sits at its own number */
	for (unsigned i = 0; i < 65536; i++) {
		t = bs_msg_type_find((uint16_t)i);
		if (t) {
			assert_int_equal(t->type, i);
			assert_non_null(t->name);
			assert_true(t->max_data <= BS_FRAME_MAX_DATA);
		}
	}
}

static void test_status_errno_mapping(void **state)
{
	for (int s = BS_OK; s <= BS_ERR_CANCELED; s++)
		assert_int_equal(bs_status_from_errno(bs_status_to_errno(s)),
				 s);
	assert_int_equal(bs_status_to_errno(BS_ERR_NOENT), -ENOENT);
	assert_int_equal(bs_status_to_errno(BS_ERR_NOTLEADER), -EREMOTE);
	assert_int_equal(bs_status_to_errno(9999), -EIO);
	assert_int_equal(bs_status_to_errno(-1), -EIO);
	assert_int_equal(bs_status_from_errno(-EMSGSIZE), BS_ERR_TOOBIG);
	assert_int_equal(bs_status_from_errno(-ENOTCONN), BS_ERR_NOQUORUM);
	assert_int_equal(bs_status_from_errno(-EXDEV), BS_ERR_IO);
	assert_int_equal(bs_status_from_errno(0), BS_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_check_value_and_chaining),
		cmocka_unit_test(test_frame_header_round_trip),
		cmocka_unit_test(test_frame_round_trip_whole_and_bytewise),
		cmocka_unit_test(test_frame_several_frames_in_one_buffer),
		cmocka_unit_test(test_frame_truncated_gives_no_message),
		cmocka_unit_test(test_frame_decode_rejects_wrong_magic),
		cmocka_unit_test(test_frame_decode_rejects_bad_header_crc),
		cmocka_unit_test(test_frame_decode_rejects_bad_payload_crc),
		cmocka_unit_test(test_frame_decode_rejects_oversized_msg_len),
		cmocka_unit_test(test_frame_decode_rejects_oversized_data_len),
		cmocka_unit_test(test_frame_decode_rejects_unknown_type),
		cmocka_unit_test(test_frame_decode_rejects_unknown_flags),
		cmocka_unit_test(
			test_frame_decode_rejects_body_that_does_not_unpack),
		cmocka_unit_test(test_frame_decode_survives_random_bytes),
		cmocka_unit_test(test_frame_parser_direct_data),
		cmocka_unit_test(test_frame_encode_rejects_bad_requests),
		cmocka_unit_test(test_frame_empty_body_round_trip),
		cmocka_unit_test(test_msg_type_table),
		cmocka_unit_test(test_status_errno_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
