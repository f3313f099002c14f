// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for basalt-nbd's wire parsers (client/nbd/protocol.c,
 * compiled in here so that coverage guides the fuzzer; it needs libc
 * only).  The first byte picks what the rest feeds:
 *   0  a stream of transmission requests, each decoded and validated
 *      against negotiated capabilities taken from the input
 *   1  a stream of handshake options: header, then its data to the INFO/
 *      GO and META_CONTEXT parsers and every metadata query matcher
 *   2  a block status report (offset/length/allocated triples) fed to the
 *      descriptor builder, whose output is checked against proto.md
 * Any crash, sanitizer report or broken invariant (abort) is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../client/nbd/protocol.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void requests(const uint8_t *p, size_t n)
{
	struct nbd_conn_caps caps;
	struct nbd_request r;
	const char *why;
	uint32_t error;
	enum nbd_verdict v;

	if (n < 11)
		return;
	caps.size = nbd_get64(p) >> (p[8] & 63);
	caps.eflags = nbd_get16(p + 8);
	caps.structured = p[10] & 1;
	caps.base_allocation = p[10] & 2;
	p += 11;
	n -= 11;
	while (n >= NBD_REQUEST_LEN) {
		if (nbd_request_decode(p, &r) == 0) {
			v = nbd_request_validate(&r, &caps, &error, &why);
			if (v == NBD_REQ_OK) {
				/* what the server then relies on */
				if (r.type != NBD_CMD_DISC &&
				    r.type != NBD_CMD_FLUSH &&
				    (r.offset > caps.size ||
				     r.length > caps.size - r.offset))
					abort();
				if ((r.type == NBD_CMD_READ ||
				     r.type == NBD_CMD_WRITE) &&
				    r.length > NBD_BLOCK_MAX)
					abort();
			} else if (!why || (v == NBD_REQ_ERROR && !error)) {
				abort();
			}
			(void)nbd_errno_to_wire(-(int)(r.handle & 0xff),
						r.flags);
			(void)nbd_cmd_name(r.type);
		}
		p += NBD_REQUEST_LEN;
		n -= NBD_REQUEST_LEN;
	}
}

static void options(const uint8_t *p, size_t n)
{
	struct nbd_opt_header h;
	struct nbd_opt_go go;
	struct nbd_opt_meta m;
	const uint8_t *q;
	uint32_t qlen, i, len;

	while (n >= NBD_OPT_HDR_LEN) {
		if (nbd_opt_header_decode(p, &h))
			h.length = nbd_get32(p + 12);
		(void)nbd_opt_name(h.option);
		p += NBD_OPT_HDR_LEN;
		n -= NBD_OPT_HDR_LEN;
		len = h.length > n ? (uint32_t)n : h.length;
		if (nbd_opt_parse_go(p, len, &go) == 0) {
			if (go.name_len > len || !nbd_string_ok(go.name,
								go.name_len))
				abort();
		}
		if (nbd_opt_parse_meta(p, len, &m) == 0) {
			for (i = 0; i < m.n_queries; i++) {
				nbd_opt_meta_query(&m, i, &q, &qlen);
				if (q < p || q + qlen > p + len)
					abort();
				(void)nbd_meta_query_selects_base_allocation(
					q, qlen, i & 1);
			}
		}
		p += len;
		n -= len;
	}
}

static void extents(const uint8_t *p, size_t n)
{
	struct nbd_extent_builder b;
	static uint8_t desc[64 * NBD_BLOCK_DESC_LEN];
	uint64_t off, total = 0;
	uint32_t len, bytes, i, l;
	bool req_one;

	if (n < 14)
		return;
	off = nbd_get64(p) >> (p[12] & 63);
	len = nbd_get32(p + 8);
	req_one = p[12] & 0x40;
	if (len > UINT64_MAX - off)	/* validated requests never wrap */
		off = UINT64_MAX - len;
	nbd_extents_init(&b, desc, 1 + (p[13] % 64), off, len, req_one);
	p += 14;
	n -= 14;
	while (n >= 9) {
		if (nbd_extents_add(&b, off + (nbd_get32(p) >> (p[8] & 7)),
				    nbd_get32(p + 4), p[8] & 0x80))
			break;
		p += 9;
		n -= 9;
	}
	bytes = nbd_extents_finish(&b);
	if (bytes % NBD_BLOCK_DESC_LEN || (len && !bytes) ||
	    (req_one && bytes > NBD_BLOCK_DESC_LEN))
		abort();
	for (i = 0; i < bytes / NBD_BLOCK_DESC_LEN; i++) {
		l = nbd_get32(desc + i * NBD_BLOCK_DESC_LEN);
		if (l == 0)
			abort();
		total += l;
	}
	/* descriptors never claim more than was asked */
	if (total > len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		requests(data + 1, size - 1);
		break;
	case 1:
		options(data + 1, size - 1);
		break;
	default:
		extents(data + 1, size - 1);
		break;
	}
	return 0;
}
