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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <protobuf-c/protobuf-c.h>

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

/* A decoded incoming message.  Whoever is handed one frees it. */
struct bs_msg {
	struct bs_frame_header hdr;	/* type, flags, req_id, lengths */
	ProtobufCMessage *body;		/* unpacked with the type's schema */
	uint8_t *data;			/* hdr.data_len bytes, or NULL */
};

/* Free @msg, its body and its data (one allocation with @msg); NULL ok. */
void bs_msg_free(struct bs_msg *msg);

/*
 * Encoding.  bs_frame_encoded_size() is the size of the header plus the
 * packed @body (NULL: an empty body).  bs_frame_encode() writes exactly
 * that many bytes to @out: the header (crcs over the body and the data
 * segment gathered from @data) and the packed body.  The data itself is
 * not copied; it follows on the wire.  Returns the byte count, or -EINVAL
 * (unknown type, @body of another schema), -EMSGSIZE (body or data too big).
 */
size_t bs_frame_encoded_size(const ProtobufCMessage *body);
int bs_frame_encode(uint8_t *out, uint16_t type, uint16_t flags,
		    uint64_t req_id, const ProtobufCMessage *body,
		    const struct iovec *data, unsigned ndata);

/*
 * Incremental decoder: bytes in, messages out, for the messenger and the
 * fuzzer alike.  Feed it whatever arrived; it keeps partial frames.
 * Invariant: in BS_FP_MSG/BS_FP_DATA, msg is allocated with room for
 * hdr.data_len bytes of data and @have counts bytes of the current part.
 */
enum bs_frame_parse_state {
	BS_FP_HEADER,
	BS_FP_MSG,
	BS_FP_DATA,
	BS_FP_ERROR,		/* a bad frame was seen: give up the stream */
};

struct bs_frame_parser {
	enum bs_frame_parse_state state;
	size_t have;
	uint8_t hbuf[BS_FRAME_HEADER_SIZE];
	struct bs_frame_header hdr;
	const struct bs_msg_type_info *info;
	uint8_t *scratch;		/* body bytes that arrived in pieces */
	size_t scratch_cap;
	struct bs_msg *msg;		/* being filled */
};

void bs_frame_parser_init(struct bs_frame_parser *p);
/* Free the partial frame, if any; @p may be initialised again. */
void bs_frame_parser_release(struct bs_frame_parser *p);

/*
 * Consume bytes from @in (@len of them) up to the end of at most one frame.
 * Sets *used to the bytes consumed and *out to a complete message (owned by
 * the caller) or NULL.  Returns 0, or a negative errno with the reason in
 * @err for a bad frame (-EBADMSG, -EMSGSIZE, -EPROTO); after an error the
 * parser stays in BS_FP_ERROR and the stream must be dropped.
 */
int bs_frame_parse(struct bs_frame_parser *p, const uint8_t *in, size_t len,
		   size_t *used, struct bs_msg **out, struct bs_error *err);

/*
 * Zero-copy path for big data segments: while the parser waits for data,
 * bs_frame_parser_direct() returns how many data bytes are still missing
 * and where they go (*dst), else 0.  After writing n (<= that) bytes there,
 * call bs_frame_parser_direct_done(), which completes like bs_frame_parse().
 */
size_t bs_frame_parser_direct(struct bs_frame_parser *p, uint8_t **dst);
int bs_frame_parser_direct_done(struct bs_frame_parser *p, size_t n,
				struct bs_msg **out, struct bs_error *err);

#endif /* BS_FRAME_H */
