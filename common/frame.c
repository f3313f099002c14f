// SPDX-License-Identifier: Apache-2.0
/*
 * The frame codec: header encode/decode, frame encode and the incremental
 * decoder (struct bs_frame_parser) that turns a hostile byte stream into
 * validated messages.  Pure logic: no loop, no sockets.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bs/frame.h"
#include "bs/msg_types.h"

_Static_assert(sizeof(struct bs_frame_header) == BS_FRAME_HEADER_SIZE,
	       "frame header is 32 bytes on the wire");
_Static_assert(BS_FRAME_MAX_MSG <= INT32_MAX, "msg_len fits an int");

/* Keep at most this much scratch space between frames. */
#define SCRATCH_KEEP	(64u << 10)

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static inline uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void bs_frame_header_encode(struct bs_frame_header *h, uint8_t *out)
{
	put32(out + 0, h->magic);
	put16(out + 4, h->type);
	put16(out + 6, h->flags);
	put64(out + 8, h->req_id);
	put32(out + 16, h->msg_len);
	put32(out + 20, h->data_len);
	put32(out + 24, h->payload_crc);
	h->header_crc = bs_crc32c(0, out, 28);
	put32(out + 28, h->header_crc);
}

int bs_frame_header_decode(const uint8_t *in, struct bs_frame_header *h,
			   struct bs_error *err)
{
	const struct bs_msg_type_info *info;
	uint32_t crc;

	h->magic = get32(in + 0);
	h->type = get16(in + 4);
	h->flags = get16(in + 6);
	h->req_id = get64(in + 8);
	h->msg_len = get32(in + 16);
	h->data_len = get32(in + 20);
	h->payload_crc = get32(in + 24);
	h->header_crc = get32(in + 28);

	if (h->magic != BS_FRAME_MAGIC)
		return bs_error_set(err, -EBADMSG,
				    "bad frame magic 0x%08" PRIx32, h->magic);
	crc = bs_crc32c(0, in, 28);
	if (crc != h->header_crc)
		return bs_error_set(err, -EBADMSG,
				    "bad frame header crc 0x%08" PRIx32
				    " (computed 0x%08" PRIx32 ")",
				    h->header_crc, crc);
	if (h->flags & ~BS_FRAME_FLAGS_KNOWN)
		return bs_error_set(err, -EPROTO,
				    "unknown frame flags 0x%04x", h->flags);
	info = bs_msg_type_find(h->type);
	if (!info)
		return bs_error_set(err, -EPROTO,
				    "unknown message type %u", h->type);
	if (h->msg_len > BS_FRAME_MAX_MSG || (!info->desc && h->msg_len))
		return bs_error_set(err, -EMSGSIZE,
				    "%s message of %" PRIu32
				    " bytes is too long", info->name,
				    h->msg_len);
	if (h->data_len > info->max_data || h->data_len > BS_FRAME_MAX_DATA)
		return bs_error_set(err, -EMSGSIZE,
				    "%s data segment of %" PRIu32
				    " bytes exceeds %" PRIu32, info->name,
				    h->data_len,
				    BS_MIN(info->max_data, BS_FRAME_MAX_DATA));
	return 0;
}

int bs_frame_payload_check(const struct bs_frame_header *h, const void *msg,
			   const void *data, struct bs_error *err)
{
	uint32_t crc = bs_crc32c(0, msg, h->msg_len);

	crc = bs_crc32c(crc, data, h->data_len);
	if (crc != h->payload_crc)
		return bs_error_set(err, -EBADMSG,
				    "bad payload crc 0x%08" PRIx32
				    " (computed 0x%08" PRIx32 ")",
				    h->payload_crc, crc);
	return 0;
}

void bs_msg_free(struct bs_msg *msg)
{
	if (!msg)
		return;
	if (msg->body)
		protobuf_c_message_free_unpacked(msg->body, NULL);
	free(msg);
}

size_t bs_frame_encoded_size(const ProtobufCMessage *body)
{
	return BS_FRAME_HEADER_SIZE +
	       (body ? protobuf_c_message_get_packed_size(body) : 0);
}

int bs_frame_encode(uint8_t *out, uint16_t type, uint16_t flags,
		    uint64_t req_id, const ProtobufCMessage *body,
		    const struct iovec *data, unsigned ndata)
{
	const struct bs_msg_type_info *info = bs_msg_type_find(type);
	struct bs_frame_header h = {
		.magic = BS_FRAME_MAGIC,
		.type = type,
		.flags = flags,
		.req_id = req_id,
	};
	uint64_t dlen = 0;
	size_t mlen = 0;
	uint32_t crc;

	if (!info || (flags & ~BS_FRAME_FLAGS_KNOWN))
		return -EINVAL;
	if (body && body->descriptor != info->desc)
		return -EINVAL;
	for (unsigned i = 0; i < ndata; i++)
		dlen += data[i].iov_len;
	if (dlen > info->max_data || dlen > BS_FRAME_MAX_DATA)
		return -EMSGSIZE;
	if (body) {
		mlen = protobuf_c_message_get_packed_size(body);
		if (mlen > BS_FRAME_MAX_MSG)
			return -EMSGSIZE;
		protobuf_c_message_pack(body, out + BS_FRAME_HEADER_SIZE);
	}
	crc = bs_crc32c(0, out + BS_FRAME_HEADER_SIZE, mlen);
	for (unsigned i = 0; i < ndata; i++)
		crc = bs_crc32c(crc, data[i].iov_base, data[i].iov_len);
	h.msg_len = (uint32_t)mlen;
	h.data_len = (uint32_t)dlen;
	h.payload_crc = crc;
	bs_frame_header_encode(&h, out);
	return (int)(BS_FRAME_HEADER_SIZE + mlen);
}

void bs_frame_parser_init(struct bs_frame_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = BS_FP_HEADER;
}

void bs_frame_parser_release(struct bs_frame_parser *p)
{
	free(p->scratch);
	free(p->msg);		/* body is unpacked only at the very end */
	bs_frame_parser_init(p);
}

static int fail(struct bs_frame_parser *p, int ret)
{
	free(p->msg);
	p->msg = NULL;
	p->state = BS_FP_ERROR;
	return ret;
}

/* The header is valid: allocate the message and its data segment. */
static int start_frame(struct bs_frame_parser *p, struct bs_error *err)
{
	struct bs_msg *msg;

	msg = malloc(sizeof(*msg) + p->hdr.data_len);
	if (!msg)
		return bs_error_set(err, -ENOMEM,
				    "no memory for a %" PRIu32 " byte frame",
				    p->hdr.data_len);
	msg->hdr = p->hdr;
	msg->body = NULL;
	msg->data = p->hdr.data_len ? (uint8_t *)(msg + 1) : NULL;
	p->msg = msg;
	p->info = bs_msg_type_find(p->hdr.type);
	p->have = 0;
	p->state = BS_FP_MSG;
	return 0;
}

/* Body bytes and data are all here: check the crc, unpack, hand it out. */
static int finish_frame(struct bs_frame_parser *p, const uint8_t *body,
			struct bs_msg **out, struct bs_error *err)
{
	struct bs_msg *msg = p->msg;
	int ret;

	ret = bs_frame_payload_check(&p->hdr, body, msg->data, err);
	if (ret)
		return ret;
	if (p->info->desc) {
		msg->body = protobuf_c_message_unpack(p->info->desc, NULL,
						      p->hdr.msg_len, body);
		if (!msg->body)
			return bs_error_set(err, -EBADMSG,
					    "cannot unpack %s message of %"
					    PRIu32 " bytes", p->info->name,
					    p->hdr.msg_len);
	}
	p->msg = NULL;
	p->state = BS_FP_HEADER;
	p->have = 0;
	if (p->scratch_cap > SCRATCH_KEEP) {
		free(p->scratch);
		p->scratch = NULL;
		p->scratch_cap = 0;
	}
	*out = msg;
	return 0;
}

static int grow_scratch(struct bs_frame_parser *p, size_t need,
			struct bs_error *err)
{
	uint8_t *s;

	if (p->scratch_cap >= need)
		return 0;
	s = realloc(p->scratch, need);
	if (!s)
		return bs_error_set(err, -ENOMEM,
				    "no memory for a %zu byte message", need);
	p->scratch = s;
	p->scratch_cap = need;
	return 0;
}

int bs_frame_parse(struct bs_frame_parser *p, const uint8_t *in, size_t len,
		   size_t *used, struct bs_msg **out, struct bs_error *err)
{
	size_t pos = 0, n;
	int ret;

	*out = NULL;
	*used = 0;
	switch (p->state) {
	case BS_FP_ERROR:
		return bs_error_set(err, -EPROTO, "stream already failed");
	case BS_FP_HEADER:
		if (p->have == 0 && len >= BS_FRAME_HEADER_SIZE) {
			ret = bs_frame_header_decode(in, &p->hdr, err);
			pos = BS_FRAME_HEADER_SIZE;
		} else {
			n = BS_MIN(BS_FRAME_HEADER_SIZE - p->have, len);
			memcpy(p->hbuf + p->have, in, n);
			p->have += n;
			pos = n;
			*used = pos;
			if (p->have < BS_FRAME_HEADER_SIZE)
				return 0;
			ret = bs_frame_header_decode(p->hbuf, &p->hdr, err);
		}
		*used = pos;
		if (ret)
			return fail(p, ret);
		ret = start_frame(p, err);
		if (ret)
			return fail(p, ret);
		/* fall through */
	case BS_FP_MSG:
		if (p->have == 0 &&
		    len - pos >= (size_t)p->hdr.msg_len + p->hdr.data_len) {
			/* the whole payload is here: no copy of the body */
			const uint8_t *body = in + pos;

			pos += p->hdr.msg_len;
			if (p->hdr.data_len)
				memcpy(p->msg->data, in + pos,
				       p->hdr.data_len);
			pos += p->hdr.data_len;
			*used = pos;
			ret = finish_frame(p, body, out, err);
			return ret ? fail(p, ret) : 0;
		}
		ret = grow_scratch(p, p->hdr.msg_len, err);
		if (ret)
			return fail(p, ret);
		n = BS_MIN(p->hdr.msg_len - p->have, len - pos);
		if (n)
			memcpy(p->scratch + p->have, in + pos, n);
		p->have += n;
		pos += n;
		*used = pos;
		if (p->have < p->hdr.msg_len)
			return 0;
		p->have = 0;
		p->state = BS_FP_DATA;
		/* fall through */
	case BS_FP_DATA:
		n = BS_MIN(p->hdr.data_len - p->have, len - pos);
		if (n)
			memcpy(p->msg->data + p->have, in + pos, n);
		p->have += n;
		pos += n;
		*used = pos;
		if (p->have < p->hdr.data_len)
			return 0;
		ret = finish_frame(p, p->scratch, out, err);
		return ret ? fail(p, ret) : 0;
	}
	return 0;
}

size_t bs_frame_parser_direct(struct bs_frame_parser *p, uint8_t **dst)
{
	if (p->state != BS_FP_DATA || p->have >= p->hdr.data_len)
		return 0;
	*dst = p->msg->data + p->have;
	return p->hdr.data_len - p->have;
}

int bs_frame_parser_direct_done(struct bs_frame_parser *p, size_t n,
				struct bs_msg **out, struct bs_error *err)
{
	int ret;

	*out = NULL;
	if (p->state != BS_FP_DATA || n > p->hdr.data_len - p->have)
		return bs_error_set(err, -EINVAL, "direct data out of range");
	p->have += n;
	if (p->have < p->hdr.data_len)
		return 0;
	ret = finish_frame(p, p->scratch, out, err);
	return ret ? fail(p, ret) : 0;
}
