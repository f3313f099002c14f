/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wire frame of the messenger: a fixed little-endian header, then a
 * protobuf-c message of msg_len bytes, then a raw data segment of data_len
 * bytes (data never goes through protobuf).
 *
 *   offset size field
 *   0      4    magic        BS_FRAME_MAGIC ("BSLT")
 *   4      2    type         enum bs_msg_type; unknown types are rejected
 *   6      2    flags        BS_FRAME_REPLY, ...; unknown bits are rejected
 *   8      8    req_id       chosen by the requester, echoed in the reply
 *   16     4    msg_len      <= BS_FRAME_MAX_MSG
 *   20     4    data_len     <= BS_FRAME_MAX_DATA
 *   24     4    payload_crc  crc32c of the message bytes then the data
 *   28     4    header_crc   crc32c of bytes 0..27
 *
 * This file is pure logic: no loop, no sockets.  Every byte is hostile.
 */
#ifndef BS_FRAME_H
#define BS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "bs/error.h"

#define BS_FRAME_MAGIC		0x544c5342u	/* "BSLT" little-endian */
#define BS_FRAME_HEADER_SIZE	32
#define BS_FRAME_MAX_MSG	(1u << 20)	/* 1 MiB of protobuf */
#define BS_FRAME_MAX_DATA	(64u << 20)	/* 64 MiB of raw data */

#define BS_FRAME_REPLY		0x0001u
#define BS_FRAME_FLAGS_KNOWN	(BS_FRAME_REPLY)

struct bs_frame_header {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;
	uint64_t req_id;
	uint32_t msg_len;
	uint32_t data_len;
	uint32_t payload_crc;
	uint32_t header_crc;
};

/* crc32c (Castagnoli, as iSCSI) continuing from @crc; 0 to start. */
uint32_t bs_crc32c(uint32_t crc, const void *buf, size_t len);

/*
 * Fill @h's crcs and write it to @out (BS_FRAME_HEADER_SIZE bytes).
 * payload_crc must already hold the crc of message and data.
 */
void bs_frame_header_encode(struct bs_frame_header *h, uint8_t *out);

/*
 * Decode and validate the fixed header in @in: magic, header crc, known
 * flags, a registered type and bounded lengths (data_len also against the
 * type's own limit).  Returns 0, or -EBADMSG / -EMSGSIZE / -EPROTO with
 * the reason in @err.
 */
int bs_frame_header_decode(const uint8_t *in, struct bs_frame_header *h,
			   struct bs_error *err);

/*
 * Check the payload (message bytes then data) against h->payload_crc.
 * Returns 0 or -EBADMSG.
 */
int bs_frame_payload_check(const struct bs_frame_header *h, const void *msg,
			   const void *data, struct bs_error *err);

#endif /* BS_FRAME_H */
