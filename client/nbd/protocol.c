// SPDX-License-Identifier: Apache-2.0
/*
 * The NBD wire protocol, pure: decode and validate requests, parse the
 * handshake options, encode replies, build block status descriptors.
 * Depends on libc only (the fuzzer links this file alone); every length
 * read from the wire is checked against the bytes actually present.
 */
#include <errno.h>
#include <string.h>

#include "nbd_proto.h"

/* ---- requests ----------------------------------------------------------- */

int nbd_request_decode(const uint8_t *buf, struct nbd_request *req)
{
	if (nbd_get32(buf) != NBD_REQUEST_MAGIC)
		return -EBADMSG;
	req->flags = nbd_get16(buf + 4);
	req->type = nbd_get16(buf + 6);
	req->handle = nbd_get64(buf + 8);
	req->offset = nbd_get64(buf + 16);
	req->length = nbd_get32(buf + 24);
	return 0;
}

void nbd_request_encode(uint8_t *buf, const struct nbd_request *req)
{
	nbd_put32(buf, NBD_REQUEST_MAGIC);
	nbd_put16(buf + 4, req->flags);
	nbd_put16(buf + 6, req->type);
	nbd_put64(buf + 8, req->handle);
	nbd_put64(buf + 16, req->offset);
	nbd_put32(buf + 24, req->length);
}

static enum nbd_verdict fail(uint32_t *error, const char **why,
			     uint32_t code, const char *reason)
{
	*error = code;
	if (why)
		*why = reason;
	return NBD_REQ_ERROR;
}

#define KNOWN_CMD_FLAGS (NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | \
			 NBD_CMD_FLAG_DF | NBD_CMD_FLAG_REQ_ONE |	\
			 NBD_CMD_FLAG_FAST_ZERO)

enum nbd_verdict nbd_request_validate(const struct nbd_request *req,
				      const struct nbd_conn_caps *caps,
				      uint32_t *error, const char **why)
{
	uint16_t f = req->flags;
	uint16_t ef = caps->eflags;
	bool is_write;

	*error = 0;
	if (why)
		*why = NULL;

	/*
	 * A WRITE whose payload we will not read must end the connection:
	 * skipping 4 GiB is a denial of service, and anything we say after
	 * a partly read payload is out of step.
	 */
	if (req->type == NBD_CMD_WRITE && req->length > NBD_BLOCK_MAX) {
		*error = NBD_EINVAL;
		if (why)
			*why = "WRITE longer than the maximum block size";
		return NBD_REQ_DISCONNECT;
	}

	switch (req->type) {
	case NBD_CMD_DISC:
		return NBD_REQ_OK;
	case NBD_CMD_READ:
	case NBD_CMD_WRITE:
	case NBD_CMD_TRIM:
	case NBD_CMD_WRITE_ZEROES:
	case NBD_CMD_BLOCK_STATUS:
		if (req->offset > caps->size ||
		    req->length > caps->size - req->offset) {
			bool w = req->type == NBD_CMD_WRITE ||
				 req->type == NBD_CMD_WRITE_ZEROES;

			return fail(error, why, w ? NBD_ENOSPC : NBD_EINVAL,
				    "offset and length are past the end");
		}
		break;
	case NBD_CMD_FLUSH:
		if (req->offset || req->length)
			return fail(error, why, NBD_EINVAL,
				    "FLUSH with a non-zero offset or length");
		break;
	case NBD_CMD_CACHE:
		/* not advertised: proto.md allows EINVAL */
		return fail(error, why, NBD_EINVAL,
			    "CACHE is not supported");
	default:
		return fail(error, why, NBD_EINVAL, "unknown command");
	}

	if (f & ~KNOWN_CMD_FLAGS)
		return fail(error, why, NBD_EINVAL, "unknown command flag");
	if ((f & NBD_CMD_FLAG_NO_HOLE) && req->type != NBD_CMD_WRITE_ZEROES)
		return fail(error, why, NBD_EINVAL,
			    "NO_HOLE flag on a command other than WRITE_ZEROES");
	if ((f & NBD_CMD_FLAG_FAST_ZERO) &&
	    (req->type != NBD_CMD_WRITE_ZEROES ||
	     !(ef & NBD_FLAG_SEND_FAST_ZERO)))
		return fail(error, why, NBD_EINVAL,
			    "FAST_ZERO flag not allowed here");
	if ((f & NBD_CMD_FLAG_DF) &&
	    (req->type != NBD_CMD_READ || !caps->structured ||
	     !(ef & NBD_FLAG_SEND_DF)))
		return fail(error, why, NBD_EINVAL,
			    "DF flag not allowed here");
	if ((f & NBD_CMD_FLAG_REQ_ONE) && req->type != NBD_CMD_BLOCK_STATUS)
		return fail(error, why, NBD_EINVAL,
			    "REQ_ONE flag on a command other than BLOCK_STATUS");
	/* FUA is valid on every command once SEND_FUA is advertised */
	if ((f & NBD_CMD_FLAG_FUA) && !(ef & NBD_FLAG_SEND_FUA))
		return fail(error, why, NBD_EINVAL,
			    "FUA flag without SEND_FUA");

	if (req->type == NBD_CMD_READ && req->length > NBD_BLOCK_MAX)
		return fail(error, why, NBD_EINVAL,
			    "READ longer than the maximum block size");

	is_write = req->type == NBD_CMD_WRITE || req->type == NBD_CMD_TRIM ||
		   req->type == NBD_CMD_WRITE_ZEROES;
	if (is_write && (ef & NBD_FLAG_READ_ONLY))
		return fail(error, why, NBD_EPERM,
			    "write to a read-only export");

	switch (req->type) {
	case NBD_CMD_FLUSH:
		if (!(ef & NBD_FLAG_SEND_FLUSH))
			return fail(error, why, NBD_EINVAL,
				    "FLUSH was not advertised");
		break;
	case NBD_CMD_TRIM:
		if (!(ef & NBD_FLAG_SEND_TRIM))
			return fail(error, why, NBD_EINVAL,
				    "TRIM was not advertised");
		break;
	case NBD_CMD_WRITE_ZEROES:
		if (!(ef & NBD_FLAG_SEND_WRITE_ZEROES))
			return fail(error, why, NBD_EINVAL,
				    "WRITE_ZEROES was not advertised");
		break;
	case NBD_CMD_BLOCK_STATUS:
		if (!caps->structured || !caps->base_allocation)
			return fail(error, why, NBD_EINVAL,
				    "BLOCK_STATUS without a metadata context");
		if (req->length == 0)
			return fail(error, why, NBD_EINVAL,
				    "BLOCK_STATUS of length 0");
		break;
	default:
		break;
	}
	return NBD_REQ_OK;
}

uint32_t nbd_errno_to_wire(int err, uint16_t cmd_flags)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return NBD_SUCCESS;
	case EPERM:
	case EROFS:
	case EACCES:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return NBD_ENOSPC;
	case EINVAL:
	case ERANGE:
		return NBD_EINVAL;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	case ENOTSUP:
		return (cmd_flags & NBD_CMD_FLAG_FAST_ZERO) ? NBD_ENOTSUP
							    : NBD_EINVAL;
	case EOVERFLOW:
		return (cmd_flags & NBD_CMD_FLAG_DF) ? NBD_EOVERFLOW
						     : NBD_EINVAL;
	default:
		return NBD_EIO;
	}
}

const char *nbd_cmd_name(uint16_t type)
{
	static const char *const names[] = {
		[NBD_CMD_READ] = "READ",
		[NBD_CMD_WRITE] = "WRITE",
		[NBD_CMD_DISC] = "DISC",
		[NBD_CMD_FLUSH] = "FLUSH",
		[NBD_CMD_TRIM] = "TRIM",
		[NBD_CMD_CACHE] = "CACHE",
		[NBD_CMD_WRITE_ZEROES] = "WRITE_ZEROES",
		[NBD_CMD_BLOCK_STATUS] = "BLOCK_STATUS",
		[NBD_CMD_RESIZE] = "RESIZE",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "UNKNOWN";
}

const char *nbd_opt_name(uint32_t opt)
{
	static const char *const names[] = {
		[NBD_OPT_EXPORT_NAME] = "NBD_OPT_EXPORT_NAME",
		[NBD_OPT_ABORT] = "NBD_OPT_ABORT",
		[NBD_OPT_LIST] = "NBD_OPT_LIST",
		[NBD_OPT_PEEK_EXPORT] = "NBD_OPT_PEEK_EXPORT",
		[NBD_OPT_STARTTLS] = "NBD_OPT_STARTTLS",
		[NBD_OPT_INFO] = "NBD_OPT_INFO",
		[NBD_OPT_GO] = "NBD_OPT_GO",
		[NBD_OPT_STRUCTURED_REPLY] = "NBD_OPT_STRUCTURED_REPLY",
		[NBD_OPT_LIST_META_CONTEXT] = "NBD_OPT_LIST_META_CONTEXT",
		[NBD_OPT_SET_META_CONTEXT] = "NBD_OPT_SET_META_CONTEXT",
		[NBD_OPT_EXTENDED_HEADERS] = "NBD_OPT_EXTENDED_HEADERS",
	};

	if (opt < sizeof(names) / sizeof(names[0]) && names[opt])
		return names[opt];
	return "unknown option";
}

/* ---- options ------------------------------------------------------------ */

int nbd_opt_header_decode(const uint8_t *buf, struct nbd_opt_header *hdr)
{
	if (nbd_get64(buf) != NBD_IHAVEOPT)
		return -EBADMSG;
	hdr->option = nbd_get32(buf + 8);
	hdr->length = nbd_get32(buf + 12);
	return 0;
}

bool nbd_string_ok(const uint8_t *s, size_t len)
{
	return len <= NBD_MAX_STRING && (len == 0 || !memchr(s, 0, len));
}

int nbd_opt_parse_go(const uint8_t *data, uint32_t len,
		     struct nbd_opt_go *out)
{
	uint32_t name_len, rest, i;
	const uint8_t *p;

	memset(out, 0, sizeof(*out));
	if (len < 6)
		return -EINVAL;
	name_len = nbd_get32(data);
	if (name_len > len - 6)
		return -EINVAL;
	p = data + 4;
	if (!nbd_string_ok(p, name_len))
		return -EINVAL;
	out->name = p;
	out->name_len = name_len;
	p += name_len;
	out->n_info = nbd_get16(p);
	p += 2;
	rest = len - 6 - name_len;
	if (rest != 2u * out->n_info)
		return -EINVAL;
	for (i = 0; i < out->n_info; i++, p += 2) {
		switch (nbd_get16(p)) {
		case NBD_INFO_NAME:
			out->want_name = true;
			break;
		case NBD_INFO_DESCRIPTION:
			out->want_description = true;
			break;
		case NBD_INFO_BLOCK_SIZE:
			out->want_block_size = true;
			break;
		default:	/* NBD_INFO_EXPORT is sent anyway */
			break;
		}
	}
	return 0;
}

int nbd_opt_parse_meta(const uint8_t *data, uint32_t len,
		       struct nbd_opt_meta *out)
{
	uint32_t name_len, off, i, qlen;

	memset(out, 0, sizeof(*out));
	if (len < 8)
		return -EINVAL;
	name_len = nbd_get32(data);
	if (name_len > len - 8)
		return -EINVAL;
	if (!nbd_string_ok(data + 4, name_len))
		return -EINVAL;
	out->name = data + 4;
	out->name_len = name_len;
	off = 4 + name_len;
	out->n_queries = nbd_get32(data + off);
	off += 4;
	out->queries = data + off;
	out->queries_len = len - off;
	if (out->n_queries > NBD_MAX_META_QUERIES) {
		/* still reject garbage first: each query needs 4 bytes */
		if (out->n_queries > out->queries_len / 4)
			return -EINVAL;
		return -E2BIG;
	}
	for (i = 0; i < out->n_queries; i++) {
		if (len - off < 4)
			return -EINVAL;
		qlen = nbd_get32(data + off);
		off += 4;
		if (qlen > len - off || !nbd_string_ok(data + off, qlen))
			return -EINVAL;
		off += qlen;
	}
	if (off != len)
		return -EINVAL;
	return 0;
}

void nbd_opt_meta_query(const struct nbd_opt_meta *m, uint32_t i,
			const uint8_t **q, uint32_t *qlen)
{
	const uint8_t *p = m->queries;
	uint32_t l;

	for (;;) {
		l = nbd_get32(p);
		if (i-- == 0)
			break;
		p += 4 + l;
	}
	*q = p + 4;
	*qlen = l;
}

bool nbd_meta_query_selects_base_allocation(const uint8_t *q, uint32_t qlen,
					    bool list)
{
	static const char full[] = NBD_META_BASE_ALLOCATION;
	static const char ns[] = "base:";

	if (qlen == sizeof(full) - 1 && !memcmp(q, full, qlen))
		return true;
	return list && qlen == sizeof(ns) - 1 && !memcmp(q, ns, qlen);
}

/* ---- encoders ----------------------------------------------------------- */

void nbd_encode_greeting(uint8_t *buf)
{
	nbd_put64(buf, NBD_MAGIC);
	nbd_put64(buf + 8, NBD_IHAVEOPT);
	nbd_put16(buf + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
}

void nbd_encode_opt_reply(uint8_t *buf, uint32_t option, uint32_t type,
			  uint32_t length)
{
	nbd_put64(buf, NBD_REP_MAGIC);
	nbd_put32(buf + 8, option);
	nbd_put32(buf + 12, type);
	nbd_put32(buf + 16, length);
}

size_t nbd_encode_info_export(uint8_t *buf, uint64_t size, uint16_t eflags)
{
	nbd_put16(buf, NBD_INFO_EXPORT);
	nbd_put64(buf + 2, size);
	nbd_put16(buf + 10, eflags);
	return 12;
}

size_t nbd_encode_info_block_size(uint8_t *buf, uint32_t min,
				  uint32_t preferred, uint32_t max)
{
	nbd_put16(buf, NBD_INFO_BLOCK_SIZE);
	nbd_put32(buf + 2, min);
	nbd_put32(buf + 6, preferred);
	nbd_put32(buf + 10, max);
	return 14;
}

void nbd_encode_simple_reply(uint8_t *buf, uint32_t error, uint64_t handle)
{
	nbd_put32(buf, NBD_SIMPLE_REPLY_MAGIC);
	nbd_put32(buf + 4, error);
	nbd_put64(buf + 8, handle);
}

void nbd_encode_chunk(uint8_t *buf, uint16_t flags, uint16_t type,
		      uint64_t handle, uint32_t length)
{
	nbd_put32(buf, NBD_STRUCTURED_REPLY_MAGIC);
	nbd_put16(buf + 4, flags);
	nbd_put16(buf + 6, type);
	nbd_put64(buf + 8, handle);
	nbd_put32(buf + 16, length);
}

/* ---- block status ------------------------------------------------------- */

#define BS_NBD_MIN(a, b) ((a) < (b) ? (a) : (b))

void nbd_extents_init(struct nbd_extent_builder *b, uint8_t *desc,
		      uint32_t max_desc, uint64_t offset, uint32_t length,
		      bool req_one)
{
	memset(b, 0, sizeof(*b));
	if (length > UINT64_MAX - offset)	/* not for validated requests */
		length = (uint32_t)(UINT64_MAX - offset);
	b->desc = desc;
	b->max_desc = req_one ? 1 : max_desc;
	b->start = offset;
	b->end = offset + length;
	b->pos = offset;
	b->req_one = req_one;
	b->full = length == 0 || max_desc == 0;
}

/* Append [pos, pos + len) with @status, merging with the last one. */
static void push(struct nbd_extent_builder *b, uint64_t len, uint32_t status)
{
	uint8_t *last;

	if (b->n_desc) {
		last = b->desc + (size_t)(b->n_desc - 1) * NBD_BLOCK_DESC_LEN;
		if (nbd_get32(last + 4) == status) {
			/* the total is at most the request's 32-bit length */
			nbd_put32(last, nbd_get32(last) + (uint32_t)len);
			goto advance;
		}
	}
	if (b->n_desc == b->max_desc) {
		b->full = true;
		return;
	}
	last = b->desc + (size_t)b->n_desc * NBD_BLOCK_DESC_LEN;
	nbd_put32(last, (uint32_t)len);
	nbd_put32(last + 4, status);
	b->n_desc++;
advance:
	b->pos += len;
	if (b->pos >= b->end)
		b->full = true;
}

int nbd_extents_add(struct nbd_extent_builder *b, uint64_t off,
		    uint64_t len, bool allocated)
{
	uint64_t end;

	if (b->full)
		return 1;
	if (len == 0)
		return 0;
	end = off + len < off ? UINT64_MAX : off + len;	/* saturate */
	if (end <= b->pos)
		return 0;
	if (off > b->pos) {
		/* a gap the backend did not describe: "allocated" is safe */
		push(b, BS_NBD_MIN(off, b->end) - b->pos, 0);
		if (b->full)
			return 1;
	}
	if (end > b->end)
		end = b->end;
	push(b, end - b->pos,
	     allocated ? 0 : NBD_STATE_HOLE | NBD_STATE_ZERO);
	return b->full ? 1 : 0;
}

uint32_t nbd_extents_finish(struct nbd_extent_builder *b)
{
	if (b->n_desc == 0 && b->max_desc > 0 && b->end > b->start) {
		nbd_put32(b->desc, (uint32_t)(b->end - b->start));
		nbd_put32(b->desc + 4, 0);
		b->n_desc = 1;
	}
	return b->n_desc * NBD_BLOCK_DESC_LEN;
}
