// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the frame decoder: the input is a byte stream as a
 * peer would send it, fed to struct bs_frame_parser in pieces whose sizes
 * come from the first input byte, exactly as the messenger feeds it.  When
 * the top bit of that byte is set, the crcs of every complete frame are
 * fixed up first, so the fuzzer also reaches the protobuf unpacking.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bs/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void fix_crcs(uint8_t *buf, size_t size)
{
	size_t pos = 0;

	while (size - pos >= BS_FRAME_HEADER_SIZE) {
		uint8_t *h = buf + pos;
		uint64_t len = (uint64_t)get32(h + 16) + get32(h + 20);

		if (len > size - pos - BS_FRAME_HEADER_SIZE)
			len = 0;	/* truncated: fix the header only */
		put32(h + 24, bs_crc32c(0, h + BS_FRAME_HEADER_SIZE, len));
		put32(h + 28, bs_crc32c(0, h, 28));
		if (!len)
			break;
		pos += BS_FRAME_HEADER_SIZE + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bs_frame_parser p;
	size_t chunk, pos = 0;
	uint8_t *buf;

	if (size < 1 || size > (1u << 20))
		return 0;
	chunk = (size_t)(data[0] & 0x7f) * 8 + 1;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 0x80)
		fix_crcs(buf, size - 1);
	size--;
	bs_frame_parser_init(&p);
	while (pos < size) {
		size_t n = BS_MIN(chunk, size - pos), off = 0;

		while (off < n) {
			struct bs_msg *m;
			size_t used;

			if (bs_frame_parse(&p, buf + pos + off, n - off,
					   &used, &m, NULL))
				goto out;
			off += used;
			if (m) {
				/* touch everything a handler would */
				if (m->hdr.data_len)
					(void)bs_crc32c(0, m->data,
							m->hdr.data_len);
				bs_msg_free(m);
			}
		}
		pos += n;
	}
out:
	bs_frame_parser_release(&p);
	free(buf);
	return 0;
}
