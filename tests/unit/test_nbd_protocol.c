// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of basalt-nbd's pure protocol code (client/nbd/protocol.c):
 * request decoding and validation against proto.md, option parsing,
 * metadata context queries, encoders, errno mapping and block status
 * descriptors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nbd_proto.h"

#define EFLAGS_RW (NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |		\
		   NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM |		\
		   NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_SEND_FAST_ZERO | \
		   NBD_FLAG_CAN_MULTI_CONN | NBD_FLAG_SEND_DF)

static const struct nbd_conn_caps caps_rw = {
	.size = 1 << 20,
	.eflags = EFLAGS_RW,
	.structured = true,
	.base_allocation = true,
};

static enum nbd_verdict check(uint16_t type, uint16_t flags, uint64_t off,
			      uint32_t len, const struct nbd_conn_caps *caps,
			      uint32_t *error)
{
	struct nbd_request r = {
		.flags = flags, .type = type, .handle = 7,
		.offset = off, .length = len,
	};
	const char *why = NULL;
	enum nbd_verdict v = nbd_request_validate(&r, caps, error, &why);

	if (v != NBD_REQ_OK)
		assert_non_null(why);
	return v;
}

static void test_nbd_request_roundtrip(void **state)
{
	struct nbd_request in = {
		.flags = NBD_CMD_FLAG_FUA, .type = NBD_CMD_WRITE,
		.handle = 0x0102030405060708ull, .offset = 0x1122334455667788ull,
		.length = 0xdeadbeef,
	}, out;
	uint8_t buf[NBD_REQUEST_LEN];

	nbd_request_encode(buf, &in);
	assert_int_equal(nbd_get32(buf), NBD_REQUEST_MAGIC);
	assert_int_equal(buf[8], 0x01);		/* big-endian handle */
	assert_int_equal(nbd_request_decode(buf, &out), 0);
	assert_int_equal(out.flags, in.flags);
	assert_int_equal(out.type, in.type);
	assert_true(out.handle == in.handle);
	assert_true(out.offset == in.offset);
	assert_int_equal(out.length, in.length);
	assert_int_equal(nbd_request_payload(&out), 0xdeadbeef);
}

static void test_nbd_request_rejects_bad_magic(void **state)
{
	uint8_t buf[NBD_REQUEST_LEN] = { 0 };
	struct nbd_request r;

	nbd_put32(buf, NBD_SIMPLE_REPLY_MAGIC);
	assert_int_equal(nbd_request_decode(buf, &r), -EBADMSG);
}

static void test_nbd_validate_accepts_good_requests(void **state)
{
	uint32_t e;

	assert_int_equal(check(NBD_CMD_READ, 0, 0, 4096, &caps_rw, &e),
			 NBD_REQ_OK);
	assert_int_equal(check(NBD_CMD_READ, NBD_CMD_FLAG_DF, 4096, 512,
			       &caps_rw, &e), NBD_REQ_OK);
	/* FUA is valid on every command once SEND_FUA is advertised */
	assert_int_equal(check(NBD_CMD_READ, NBD_CMD_FLAG_FUA, 0, 1,
			       &caps_rw, &e), NBD_REQ_OK);
	assert_int_equal(check(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA,
			       (1 << 20) - 1, 1, &caps_rw, &e), NBD_REQ_OK);
	assert_int_equal(check(NBD_CMD_FLUSH, 0, 0, 0, &caps_rw, &e),
			 NBD_REQ_OK);
	assert_int_equal(check(NBD_CMD_TRIM, 0, 0, 1 << 20, &caps_rw, &e),
			 NBD_REQ_OK);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES,
			       NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO,
			       0, 1 << 20, &caps_rw, &e), NBD_REQ_OK);
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, NBD_CMD_FLAG_REQ_ONE,
			       0, 1 << 20, &caps_rw, &e), NBD_REQ_OK);
	/* zero lengths are unspecified: served, never a disconnect */
	assert_int_equal(check(NBD_CMD_READ, 0, 1 << 20, 0, &caps_rw, &e),
			 NBD_REQ_OK);
	assert_int_equal(check(NBD_CMD_DISC, 0, 99, 99, &caps_rw, &e),
			 NBD_REQ_OK);
}

static void test_nbd_validate_range_past_end(void **state)
{
	uint32_t e;

	assert_int_equal(check(NBD_CMD_READ, 0, (1 << 20) - 4095, 4096,
			       &caps_rw, &e), NBD_REQ_ERROR);
	assert_int_equal(e, NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, 1 << 20, 1, &caps_rw, &e),
			 NBD_REQ_ERROR);
	assert_int_equal(e, NBD_ENOSPC);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, 0, 1 << 20, 1,
			       &caps_rw, &e), NBD_REQ_ERROR);
	assert_int_equal(e, NBD_ENOSPC);
	assert_int_equal(check(NBD_CMD_TRIM, 0, UINT64_MAX, 2, &caps_rw, &e),
			 NBD_REQ_ERROR);
	assert_int_equal(e, NBD_EINVAL);
	/* offset + length overflowing 64 bits */
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, UINT64_MAX - 1,
			       UINT32_MAX, &caps_rw, &e), NBD_REQ_ERROR);
	assert_int_equal(e, NBD_EINVAL);
}

static void test_nbd_validate_unknown_command_and_flags(void **state)
{
	uint32_t e;

	assert_int_equal(check(42, 0, 0, 0, &caps_rw, &e), NBD_REQ_ERROR);
	assert_int_equal(e, NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_CACHE, 0, 0, 512, &caps_rw, &e),
			 NBD_REQ_ERROR);
	assert_int_equal(e, NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_READ, 1u << 9, 0, 512, &caps_rw, &e),
			 NBD_REQ_ERROR);
	assert_int_equal(e, NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, NBD_CMD_FLAG_NO_HOLE, 0, 512,
			       &caps_rw, &e), NBD_REQ_ERROR);
	assert_int_equal(check(NBD_CMD_WRITE, NBD_CMD_FLAG_DF, 0, 512,
			       &caps_rw, &e), NBD_REQ_ERROR);
	assert_int_equal(check(NBD_CMD_READ, NBD_CMD_FLAG_REQ_ONE, 0, 512,
			       &caps_rw, &e), NBD_REQ_ERROR);
	assert_int_equal(check(NBD_CMD_TRIM, NBD_CMD_FLAG_FAST_ZERO, 0, 512,
			       &caps_rw, &e), NBD_REQ_ERROR);
	assert_int_equal(check(NBD_CMD_FLUSH, 0, 0, 1, &caps_rw, &e),
			 NBD_REQ_ERROR);
	assert_int_equal(check(NBD_CMD_FLUSH, 0, 1, 0, &caps_rw, &e),
			 NBD_REQ_ERROR);
}

static void test_nbd_validate_negotiation_dependent(void **state)
{
	struct nbd_conn_caps c = caps_rw;
	uint32_t e;

	c.structured = false;
	c.eflags &= ~NBD_FLAG_SEND_DF;
	assert_int_equal(check(NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 512, &c,
			       &e), NBD_REQ_ERROR);
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, 0, 512, &c, &e),
			 NBD_REQ_ERROR);
	c = caps_rw;
	c.base_allocation = false;
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, 0, 512, &c, &e),
			 NBD_REQ_ERROR);
	assert_int_equal(e, NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_BLOCK_STATUS, 0, 0, 0, &caps_rw, &e),
			 NBD_REQ_ERROR);
	c = caps_rw;
	c.eflags &= ~(NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_FAST_ZERO);
	assert_int_equal(check(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 0, 512, &c,
			       &e), NBD_REQ_ERROR);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO,
			       0, 512, &c, &e), NBD_REQ_ERROR);
}

static void test_nbd_validate_read_only(void **state)
{
	struct nbd_conn_caps c = caps_rw;
	uint32_t e;

	c.eflags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY |
		   NBD_FLAG_SEND_FLUSH;
	assert_int_equal(check(NBD_CMD_WRITE, 0, 0, 512, &c, &e),
			 NBD_REQ_ERROR);
	assert_int_equal(e, NBD_EPERM);
	assert_int_equal(check(NBD_CMD_TRIM, 0, 0, 512, &c, &e),
			 NBD_REQ_ERROR);
	assert_int_equal(e, NBD_EPERM);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, 0, 0, 512, &c, &e),
			 NBD_REQ_ERROR);
	assert_int_equal(e, NBD_EPERM);
	assert_int_equal(check(NBD_CMD_READ, 0, 0, 512, &c, &e), NBD_REQ_OK);
}

static void test_nbd_validate_max_block_size(void **state)
{
	struct nbd_conn_caps c = caps_rw;
	uint32_t e;

	c.size = 1ull << 40;
	assert_int_equal(check(NBD_CMD_READ, 0, 0, NBD_BLOCK_MAX, &c, &e),
			 NBD_REQ_OK);
	assert_int_equal(check(NBD_CMD_READ, 0, 0, NBD_BLOCK_MAX + 1, &c,
			       &e), NBD_REQ_ERROR);
	assert_int_equal(e, NBD_EINVAL);
	assert_int_equal(check(NBD_CMD_WRITE, 0, 0, NBD_BLOCK_MAX, &c, &e),
			 NBD_REQ_OK);
	/* a too-long WRITE cannot be skipped: disconnect (even past end) */
	assert_int_equal(check(NBD_CMD_WRITE, 0, 0, NBD_BLOCK_MAX + 1, &c,
			       &e), NBD_REQ_DISCONNECT);
	assert_int_equal(check(NBD_CMD_WRITE, 0, UINT64_MAX, UINT32_MAX,
			       &caps_rw, &e), NBD_REQ_DISCONNECT);
	/* payload-less commands may be longer */
	assert_int_equal(check(NBD_CMD_TRIM, 0, 0, UINT32_MAX, &c, &e),
			 NBD_REQ_OK);
	assert_int_equal(check(NBD_CMD_WRITE_ZEROES, 0, 0, UINT32_MAX, &c,
			       &e), NBD_REQ_OK);
}

static void test_nbd_errno_mapping(void **state)
{
	assert_int_equal(nbd_errno_to_wire(0, 0), NBD_SUCCESS);
	assert_int_equal(nbd_errno_to_wire(-ENOSPC, 0), NBD_ENOSPC);
	assert_int_equal(nbd_errno_to_wire(-EDQUOT, 0), NBD_ENOSPC);
	assert_int_equal(nbd_errno_to_wire(-ERANGE, 0), NBD_EINVAL);
	assert_int_equal(nbd_errno_to_wire(-EINVAL, 0), NBD_EINVAL);
	assert_int_equal(nbd_errno_to_wire(-EIO, 0), NBD_EIO);
	assert_int_equal(nbd_errno_to_wire(-ETIMEDOUT, 0), NBD_EIO);
	assert_int_equal(nbd_errno_to_wire(-EHOSTUNREACH, 0), NBD_EIO);
	assert_int_equal(nbd_errno_to_wire(-EROFS, 0), NBD_EPERM);
	assert_int_equal(nbd_errno_to_wire(-ENOMEM, 0), NBD_ENOMEM);
	assert_int_equal(nbd_errno_to_wire(-ESHUTDOWN, 0), NBD_ESHUTDOWN);
	assert_int_equal(nbd_errno_to_wire(-ENOTSUP, 0), NBD_EINVAL);
	assert_int_equal(nbd_errno_to_wire(-ENOTSUP, NBD_CMD_FLAG_FAST_ZERO),
			 NBD_ENOTSUP);
	assert_int_equal(nbd_errno_to_wire(-EOVERFLOW, NBD_CMD_FLAG_DF),
			 NBD_EOVERFLOW);
	assert_int_equal(nbd_errno_to_wire(EIO, 0), NBD_EIO);
}

/* Build INFO/GO data: name, then @n info types. */
static uint32_t go_data(uint8_t *buf, const char *name, const uint16_t *info,
			uint16_t n)
{
	uint32_t len = (uint32_t)strlen(name), i;

	nbd_put32(buf, len);
	memcpy(buf + 4, name, len);
	nbd_put16(buf + 4 + len, n);
	for (i = 0; i < n; i++)
		nbd_put16(buf + 6 + len + 2 * i, info[i]);
	return 6 + len + 2u * n;
}

static void test_nbd_opt_go_parses(void **state)
{
	static const uint16_t info[] = { NBD_INFO_BLOCK_SIZE, 77,
					 NBD_INFO_NAME };
	struct nbd_opt_go go;
	uint8_t buf[64];
	uint32_t len = go_data(buf, "rbd/t1", info, 3);

	assert_int_equal(nbd_opt_parse_go(buf, len, &go), 0);
	assert_int_equal(go.name_len, 6);
	assert_memory_equal(go.name, "rbd/t1", 6);
	assert_int_equal(go.n_info, 3);
	assert_true(go.want_block_size);
	assert_true(go.want_name);
	assert_false(go.want_description);
	/* empty name, no infos: the default export */
	len = go_data(buf, "", NULL, 0);
	assert_int_equal(nbd_opt_parse_go(buf, len, &go), 0);
	assert_int_equal(go.name_len, 0);
}

static void test_nbd_opt_go_rejects_malformed(void **state)
{
	static const uint16_t info[] = { NBD_INFO_BLOCK_SIZE };
	struct nbd_opt_go go;
	uint8_t buf[64];
	uint32_t len = go_data(buf, "rbd/t1", info, 1);

	/* too short for the fixed fields */
	assert_int_equal(nbd_opt_parse_go(buf, 5, &go), -EINVAL);
	/* info count disagrees with the length */
	assert_int_equal(nbd_opt_parse_go(buf, len - 1, &go), -EINVAL);
	assert_int_equal(nbd_opt_parse_go(buf, len + 2, &go), -EINVAL);
	/* name length past the data */
	nbd_put32(buf, 0xffffffffu);
	assert_int_equal(nbd_opt_parse_go(buf, len, &go), -EINVAL);
	/* NUL inside the name */
	len = go_data(buf, "rbd/t1", info, 1);
	buf[6] = 0;
	assert_int_equal(nbd_opt_parse_go(buf, len, &go), -EINVAL);
}

static void test_nbd_opt_go_rejects_long_name(void **state)
{
	static uint8_t buf[4 + NBD_MAX_STRING + 1 + 2];
	struct nbd_opt_go go;

	memset(buf, 'a', sizeof(buf));
	nbd_put32(buf, NBD_MAX_STRING + 1);
	nbd_put16(buf + 4 + NBD_MAX_STRING + 1, 0);
	assert_int_equal(nbd_opt_parse_go(buf, sizeof(buf), &go), -EINVAL);
	nbd_put32(buf, NBD_MAX_STRING);
	nbd_put16(buf + 4 + NBD_MAX_STRING, 0);
	assert_int_equal(nbd_opt_parse_go(buf, sizeof(buf) - 1, &go), 0);
}

/* Build *_META_CONTEXT data. */
static uint32_t meta_data(uint8_t *buf, const char *name,
			  const char *const *q, uint32_t n)
{
	uint32_t len = (uint32_t)strlen(name), off, i, ql;

	nbd_put32(buf, len);
	memcpy(buf + 4, name, len);
	off = 4 + len;
	nbd_put32(buf + off, n);
	off += 4;
	for (i = 0; i < n; i++) {
		ql = (uint32_t)strlen(q[i]);
		nbd_put32(buf + off, ql);
		memcpy(buf + off + 4, q[i], ql);
		off += 4 + ql;
	}
	return off;
}

static void test_nbd_opt_meta_parses_queries(void **state)
{
	static const char *const q[] = { "qemu:dirty-bitmap:x",
					 "base:allocation", "base:" };
	struct nbd_opt_meta m;
	const uint8_t *s;
	uint32_t slen;
	uint8_t buf[256];
	uint32_t len = meta_data(buf, "rbd/t1", q, 3);

	assert_int_equal(nbd_opt_parse_meta(buf, len, &m), 0);
	assert_int_equal(m.n_queries, 3);
	assert_memory_equal(m.name, "rbd/t1", 6);
	nbd_opt_meta_query(&m, 0, &s, &slen);
	assert_int_equal(slen, strlen(q[0]));
	assert_false(nbd_meta_query_selects_base_allocation(s, slen, true));
	nbd_opt_meta_query(&m, 1, &s, &slen);
	assert_true(nbd_meta_query_selects_base_allocation(s, slen, false));
	assert_true(nbd_meta_query_selects_base_allocation(s, slen, true));
	nbd_opt_meta_query(&m, 2, &s, &slen);
	/* "base:" lists everything in the namespace but sets nothing */
	assert_true(nbd_meta_query_selects_base_allocation(s, slen, true));
	assert_false(nbd_meta_query_selects_base_allocation(s, slen, false));
	assert_false(nbd_meta_query_selects_base_allocation(
		(const uint8_t *)"base:allocatio", 14, true));
}

static void test_nbd_opt_meta_rejects_malformed(void **state)
{
	static const char *const q[] = { "base:allocation" };
	struct nbd_opt_meta m;
	uint8_t buf[256];
	uint32_t len = meta_data(buf, "rbd/t1", q, 1);

	assert_int_equal(nbd_opt_parse_meta(buf, len - 1, &m), -EINVAL);
	assert_int_equal(nbd_opt_parse_meta(buf, len + 1, &m), -EINVAL);
	assert_int_equal(nbd_opt_parse_meta(buf, 7, &m), -EINVAL);
	/* more queries announced than present */
	nbd_put32(buf + 10, 2);
	assert_int_equal(nbd_opt_parse_meta(buf, len, &m), -EINVAL);
	/* a query length past the end */
	nbd_put32(buf + 10, 1);
	nbd_put32(buf + 14, 1000);
	assert_int_equal(nbd_opt_parse_meta(buf, len, &m), -EINVAL);
	/* too many queries, all present: NBD_REP_ERR_TOO_BIG */
	{
		static const char *const many[NBD_MAX_META_QUERIES + 1] = {
			[0 ... NBD_MAX_META_QUERIES] = "x:",
		};
		static uint8_t big[8 + (NBD_MAX_META_QUERIES + 1) * 6 + 8];

		len = meta_data(big, "", many, NBD_MAX_META_QUERIES + 1);
		assert_int_equal(nbd_opt_parse_meta(big, len, &m), -E2BIG);
	}
}

static void test_nbd_encoders(void **state)
{
	uint8_t b[32];

	nbd_encode_greeting(b);
	assert_memory_equal(b, "NBDMAGICIHAVEOPT", 16);
	assert_int_equal(nbd_get16(b + 16), 3);
	nbd_encode_opt_reply(b, NBD_OPT_GO, NBD_REP_ERR_UNKNOWN, 5);
	assert_true(nbd_get64(b) == NBD_REP_MAGIC);
	assert_int_equal(nbd_get32(b + 8), NBD_OPT_GO);
	assert_int_equal(nbd_get32(b + 12), 0x80000006u);
	assert_int_equal(nbd_get32(b + 16), 5);
	assert_int_equal(nbd_encode_info_export(b, 1ull << 33, 0x1234), 12);
	assert_int_equal(nbd_get16(b), NBD_INFO_EXPORT);
	assert_true(nbd_get64(b + 2) == 1ull << 33);
	assert_int_equal(nbd_get16(b + 10), 0x1234);
	assert_int_equal(nbd_encode_info_block_size(b, 1, 4096, 1 << 25), 14);
	assert_int_equal(nbd_get32(b + 2), 1);
	assert_int_equal(nbd_get32(b + 6), 4096);
	assert_int_equal(nbd_get32(b + 10), 1 << 25);
	nbd_encode_simple_reply(b, NBD_EIO, 0xabcdef);
	assert_int_equal(nbd_get32(b), NBD_SIMPLE_REPLY_MAGIC);
	assert_int_equal(nbd_get32(b + 4), NBD_EIO);
	assert_true(nbd_get64(b + 8) == 0xabcdef);
	nbd_encode_chunk(b, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, 9, 6);
	assert_int_equal(nbd_get32(b), NBD_STRUCTURED_REPLY_MAGIC);
	assert_int_equal(nbd_get16(b + 4), 1);
	assert_int_equal(nbd_get16(b + 6), 0x8001);
	assert_true(nbd_get64(b + 8) == 9);
	assert_int_equal(nbd_get32(b + 16), 6);
}

static void desc_at(const uint8_t *d, unsigned i, uint32_t *len,
		    uint32_t *status)
{
	*len = nbd_get32(d + 8 * i);
	*status = nbd_get32(d + 8 * i + 4);
}

static void test_nbd_extents_merge_clip_and_fill(void **state)
{
	struct nbd_extent_builder b;
	uint8_t d[8 * 16];
	uint32_t len, st;

	nbd_extents_init(&b, d, 16, 1000, 10000, false);
	/* starts before the request: clipped; same status merges */
	assert_int_equal(nbd_extents_add(&b, 0, 2000, false), 0);
	assert_int_equal(nbd_extents_add(&b, 2000, 1000, false), 0);
	/* a gap the backend skipped reads as data */
	assert_int_equal(nbd_extents_add(&b, 4000, 1000, true), 0);
	/* runs past the end: clipped, and the builder is full */
	assert_int_equal(nbd_extents_add(&b, 5000, 1ull << 40, false), 1);
	assert_int_equal(nbd_extents_finish(&b), 3 * 8);
	desc_at(d, 0, &len, &st);
	assert_int_equal(len, 2000);
	assert_int_equal(st, NBD_STATE_HOLE | NBD_STATE_ZERO);
	desc_at(d, 1, &len, &st);
	assert_int_equal(len, 2000);	/* gap 3000-4000 + data 4000-5000 */
	assert_int_equal(st, 0);
	desc_at(d, 2, &len, &st);
	assert_int_equal(len, 6000);
	assert_int_equal(st, NBD_STATE_HOLE | NBD_STATE_ZERO);
}

static void test_nbd_extents_req_one(void **state)
{
	struct nbd_extent_builder b;
	uint8_t d[8 * 16];
	uint32_t len, st;

	nbd_extents_init(&b, d, 16, 0, 4096, true);
	assert_int_equal(nbd_extents_add(&b, 0, 512, true), 0);
	assert_int_equal(nbd_extents_add(&b, 512, 512, true), 0);
	assert_int_equal(nbd_extents_add(&b, 1024, 512, false), 1);
	assert_int_equal(nbd_extents_finish(&b), 8);
	desc_at(d, 0, &len, &st);
	assert_int_equal(len, 1024);
	assert_int_equal(st, 0);
}

static void test_nbd_extents_limits(void **state)
{
	struct nbd_extent_builder b;
	uint8_t d[8 * 2];
	uint32_t len, st;
	uint64_t off;
	int ret = 0;

	/* at most max_desc descriptors; fewer than the range is allowed */
	nbd_extents_init(&b, d, 2, 0, 1 << 20, false);
	for (off = 0; off < (1 << 20) && !ret; off += 4096)
		ret = nbd_extents_add(&b, off, 4096, (off / 4096) % 2);
	assert_int_equal(ret, 1);
	assert_int_equal(nbd_extents_finish(&b), 16);
	/* nothing reported: one safe "data" descriptor for the range */
	nbd_extents_init(&b, d, 2, 4096, 8192, false);
	assert_int_equal(nbd_extents_add(&b, 0, 0, false), 0);
	assert_int_equal(nbd_extents_finish(&b), 8);
	desc_at(d, 0, &len, &st);
	assert_int_equal(len, 8192);
	assert_int_equal(st, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nbd_request_roundtrip),
		cmocka_unit_test(test_nbd_request_rejects_bad_magic),
		cmocka_unit_test(test_nbd_validate_accepts_good_requests),
		cmocka_unit_test(test_nbd_validate_range_past_end),
		cmocka_unit_test(test_nbd_validate_unknown_command_and_flags),
		cmocka_unit_test(test_nbd_validate_negotiation_dependent),
		cmocka_unit_test(test_nbd_validate_read_only),
		cmocka_unit_test(test_nbd_validate_max_block_size),
		cmocka_unit_test(test_nbd_errno_mapping),
		cmocka_unit_test(test_nbd_opt_go_parses),
		cmocka_unit_test(test_nbd_opt_go_rejects_malformed),
		cmocka_unit_test(test_nbd_opt_go_rejects_long_name),
		cmocka_unit_test(test_nbd_opt_meta_parses_queries),
		cmocka_unit_test(test_nbd_opt_meta_rejects_malformed),
		cmocka_unit_test(test_nbd_encoders),
		cmocka_unit_test(test_nbd_extents_merge_clip_and_fill),
		cmocka_unit_test(test_nbd_extents_req_one),
		cmocka_unit_test(test_nbd_extents_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
