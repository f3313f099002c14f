/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NBD wire protocol (doc/proto.md of the NetworkBlockDevice/nbd
 * project): constants, and the pure decoders, validators and encoders of
 * basalt-nbd.  Nothing here touches a socket, a loop or libbasalt, and
 * protocol.c needs only libc, so that the unit test and the fuzzer link it
 * alone.  All integers on the wire are big-endian.
 */
#ifndef BS_NBD_PROTO_H
#define BS_NBD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- handshake --------------------------------------------------------- */

#define NBD_MAGIC		0x4e42444d41474943ull	/* "NBDMAGIC" */
#define NBD_IHAVEOPT		0x49484156454f5054ull	/* "IHAVEOPT" */
#define NBD_REP_MAGIC		0x0003e889045565a9ull

/* handshake flags (server, 16 bits) */
#define NBD_FLAG_FIXED_NEWSTYLE	(1u << 0)
#define NBD_FLAG_NO_ZEROES	(1u << 1)
/* client flags (32 bits) */
#define NBD_FLAG_C_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_C_NO_ZEROES	(1u << 1)

/* transmission flags (16 bits) */
#define NBD_FLAG_HAS_FLAGS	(1u << 0)
#define NBD_FLAG_READ_ONLY	(1u << 1)
#define NBD_FLAG_SEND_FLUSH	(1u << 2)
#define NBD_FLAG_SEND_FUA	(1u << 3)
#define NBD_FLAG_ROTATIONAL	(1u << 4)
#define NBD_FLAG_SEND_TRIM	(1u << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)
#define NBD_FLAG_SEND_DF	(1u << 7)
#define NBD_FLAG_CAN_MULTI_CONN	(1u << 8)
#define NBD_FLAG_SEND_RESIZE	(1u << 9)
#define NBD_FLAG_SEND_CACHE	(1u << 10)
#define NBD_FLAG_SEND_FAST_ZERO	(1u << 11)

/* options */
#define NBD_OPT_EXPORT_NAME	1u
#define NBD_OPT_ABORT		2u
#define NBD_OPT_LIST		3u
#define NBD_OPT_PEEK_EXPORT	4u
#define NBD_OPT_STARTTLS	5u
#define NBD_OPT_INFO		6u
#define NBD_OPT_GO		7u
#define NBD_OPT_STRUCTURED_REPLY 8u
#define NBD_OPT_LIST_META_CONTEXT 9u
#define NBD_OPT_SET_META_CONTEXT 10u
#define NBD_OPT_EXTENDED_HEADERS 11u

/* option replies */
#define NBD_REP_ACK		1u
#define NBD_REP_SERVER		2u
#define NBD_REP_INFO		3u
#define NBD_REP_META_CONTEXT	4u
#define NBD_REP_ERR		0x80000000u
#define NBD_REP_ERR_UNSUP	(NBD_REP_ERR + 1)
#define NBD_REP_ERR_POLICY	(NBD_REP_ERR + 2)
#define NBD_REP_ERR_INVALID	(NBD_REP_ERR + 3)
#define NBD_REP_ERR_PLATFORM	(NBD_REP_ERR + 4)
#define NBD_REP_ERR_TLS_REQD	(NBD_REP_ERR + 5)
#define NBD_REP_ERR_UNKNOWN	(NBD_REP_ERR + 6)
#define NBD_REP_ERR_SHUTDOWN	(NBD_REP_ERR + 7)
#define NBD_REP_ERR_BLOCK_SIZE_REQD (NBD_REP_ERR + 8)
#define NBD_REP_ERR_TOO_BIG	(NBD_REP_ERR + 9)

/* NBD_REP_INFO types */
#define NBD_INFO_EXPORT		0u
#define NBD_INFO_NAME		1u
#define NBD_INFO_DESCRIPTION	2u
#define NBD_INFO_BLOCK_SIZE	3u

/* ---- transmission ------------------------------------------------------ */

#define NBD_REQUEST_MAGIC	0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC	0x67446698u
#define NBD_STRUCTURED_REPLY_MAGIC 0x668e33efu

#define NBD_CMD_READ		0u
#define NBD_CMD_WRITE		1u
#define NBD_CMD_DISC		2u
#define NBD_CMD_FLUSH		3u
#define NBD_CMD_TRIM		4u
#define NBD_CMD_CACHE		5u
#define NBD_CMD_WRITE_ZEROES	6u
#define NBD_CMD_BLOCK_STATUS	7u
#define NBD_CMD_RESIZE		8u

#define NBD_CMD_FLAG_FUA	(1u << 0)
#define NBD_CMD_FLAG_NO_HOLE	(1u << 1)
#define NBD_CMD_FLAG_DF		(1u << 2)
#define NBD_CMD_FLAG_REQ_ONE	(1u << 3)
#define NBD_CMD_FLAG_FAST_ZERO	(1u << 4)

#define NBD_REPLY_FLAG_DONE	(1u << 0)

#define NBD_REPLY_TYPE_NONE	0u
#define NBD_REPLY_TYPE_OFFSET_DATA 1u
#define NBD_REPLY_TYPE_OFFSET_HOLE 2u
#define NBD_REPLY_TYPE_BLOCK_STATUS 5u
#define NBD_REPLY_TYPE_ERROR	((1u << 15) + 1)
#define NBD_REPLY_TYPE_ERROR_OFFSET ((1u << 15) + 2)

/* base:allocation status flags */
#define NBD_STATE_HOLE		(1u << 0)
#define NBD_STATE_ZERO		(1u << 1)

/* wire error values */
#define NBD_SUCCESS		0u
#define NBD_EPERM		1u
#define NBD_EIO			5u
#define NBD_ENOMEM		12u
#define NBD_EINVAL		22u
#define NBD_ENOSPC		28u
#define NBD_EOVERFLOW		75u
#define NBD_ENOTSUP		95u
#define NBD_ESHUTDOWN		108u

/* ---- sizes and limits -------------------------------------------------- */

/*
 * Wire sizes:
 *   server greeting     18  NBDMAGIC(8) IHAVEOPT(8) flags(2)
 *   client flags         4
 *   option header       16  IHAVEOPT(8) option(4) length(4)
 *   option reply hdr    20  magic(8) option(4) type(4) length(4)
 *   EXPORT_NAME reply   10  size(8) flags(2) [+124 zeroes]
 *   request             28  magic(4) flags(2) type(2) handle(8)
 *                           offset(8) length(4)
 *   simple reply        16  magic(4) error(4) handle(8)
 *   structured chunk    20  magic(4) flags(2) type(2) handle(8) length(4)
 *   block descriptor     8  length(4) status(4)
 */
#define NBD_GREETING_LEN	18
#define NBD_CLIENT_FLAGS_LEN	4
#define NBD_OPT_HDR_LEN		16
#define NBD_OPT_REPLY_HDR_LEN	20
#define NBD_EXPORT_NAME_REPLY_LEN 10
#define NBD_ZERO_PAD_LEN	124
#define NBD_REQUEST_LEN		28
#define NBD_SIMPLE_REPLY_LEN	16
#define NBD_CHUNK_HDR_LEN	20
#define NBD_BLOCK_DESC_LEN	8

/* Strings (export names, queries, messages): proto.md says at most 4096. */
#define NBD_MAX_STRING		4096u
/* Option data we read whole; longer options are skipped and refused. */
#define NBD_MAX_OPT_LEN		(64u * 1024)
/* Queries in one *_META_CONTEXT option. */
#define NBD_MAX_META_QUERIES	128u

/* Block size constraints we advertise (NBD_INFO_BLOCK_SIZE). */
#define NBD_BLOCK_MIN		1u
#define NBD_BLOCK_PREFERRED	4096u
#define NBD_BLOCK_MAX		(32u * 1024 * 1024)

/* The one metadata context we offer, and its id on this server. */
#define NBD_META_BASE_ALLOCATION "base:allocation"
#define NBD_META_ID_BASE_ALLOCATION 1u

/* ---- big-endian helpers ------------------------------------------------ */

static inline void nbd_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void nbd_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline void nbd_put64(uint8_t *p, uint64_t v)
{
	nbd_put32(p, v >> 32);
	nbd_put32(p + 4, (uint32_t)v);
}

static inline uint16_t nbd_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t nbd_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t nbd_get64(const uint8_t *p)
{
	return (uint64_t)nbd_get32(p) << 32 | nbd_get32(p + 4);
}

/* ---- requests (protocol.c) --------------------------------------------- */

struct nbd_request {
	uint16_t flags;		/* NBD_CMD_FLAG_* */
	uint16_t type;		/* NBD_CMD_* */
	uint64_t handle;	/* opaque, echoed in the reply */
	uint64_t offset;
	uint32_t length;
};

/*
 * Decode the NBD_REQUEST_LEN bytes at @buf.  Returns 0, or -EBADMSG if
 * the magic is wrong (the stream is out of step: disconnect).
 */
int nbd_request_decode(const uint8_t *buf, struct nbd_request *req);

/* Encode @req into NBD_REQUEST_LEN bytes (tests and the fuzzer). */
void nbd_request_encode(uint8_t *buf, const struct nbd_request *req);

/* What the connection negotiated, as request validation needs it. */
struct nbd_conn_caps {
	uint64_t size;		/* export size in bytes */
	uint16_t eflags;	/* transmission flags sent to the client */
	bool structured;	/* NBD_OPT_STRUCTURED_REPLY acknowledged */
	bool base_allocation;	/* base:allocation selected for this export */
};

enum nbd_verdict {
	NBD_REQ_OK,		/* serve it */
	NBD_REQ_ERROR,		/* reply with *error (after skipping a WRITE's
				 * payload) and go on */
	NBD_REQ_DISCONNECT,	/* hard disconnect (cannot stay in step) */
};

/*
 * Check @req against proto.md and @caps, in nbdkit's order: an unknown
 * command or flag, a range past the end, a READ or WRITE longer than
 * NBD_BLOCK_MAX, a write on a read-only export, a command not advertised
 * in eflags.  On NBD_REQ_ERROR, *error is the NBD_E* value to reply.
 * On anything but NBD_REQ_OK, *why (if not NULL) is a static one-line
 * reason for the log.  NBD_CMD_DISC validates as OK whatever its fields.
 */
enum nbd_verdict nbd_request_validate(const struct nbd_request *req,
				      const struct nbd_conn_caps *caps,
				      uint32_t *error, const char **why);

/* The bytes of payload that follow @req on the wire (WRITE only). */
static inline uint32_t nbd_request_payload(const struct nbd_request *req)
{
	return req->type == NBD_CMD_WRITE ? req->length : 0;
}

/*
 * Map a negative errno from libbasalt (or a positive one) to the NBD
 * error for a request with @cmd_flags: ENOSPC/EDQUOT/EFBIG -> ENOSPC,
 * EINVAL/ERANGE -> EINVAL, EPERM/EROFS/EACCES -> EPERM, ENOMEM -> ENOMEM,
 * ESHUTDOWN -> ESHUTDOWN, ENOTSUP -> ENOTSUP only for FAST_ZERO (else
 * EINVAL), EOVERFLOW only for DF (else EINVAL), anything else -> EIO.
 */
uint32_t nbd_errno_to_wire(int err, uint16_t cmd_flags);

/* "READ", "WRITE", ... or "UNKNOWN" (for logs). */
const char *nbd_cmd_name(uint16_t type);
/* "NBD_OPT_GO", ... or "unknown option" (for logs). */
const char *nbd_opt_name(uint32_t opt);

/* ---- options (protocol.c) ---------------------------------------------- */

struct nbd_opt_header {
	uint32_t option;
	uint32_t length;
};

/*
 * Decode the NBD_OPT_HDR_LEN bytes at @buf.  Returns 0, or -EBADMSG if
 * the magic is not IHAVEOPT (garbage: disconnect).
 */
int nbd_opt_header_decode(const uint8_t *buf, struct nbd_opt_header *hdr);

/*
 * Is @s (@len bytes) a valid NBD string: at most NBD_MAX_STRING bytes and
 * no NUL?  (UTF-8 is not checked: names are compared byte for byte.)
 */
bool nbd_string_ok(const uint8_t *s, size_t len);

/* NBD_OPT_INFO / NBD_OPT_GO data, parsed.  Pointers borrow @data. */
struct nbd_opt_go {
	const uint8_t *name;	/* not NUL-terminated */
	uint32_t name_len;
	uint16_t n_info;
	bool want_name;		/* NBD_INFO_NAME requested */
	bool want_description;	/* NBD_INFO_DESCRIPTION requested */
	bool want_block_size;	/* NBD_INFO_BLOCK_SIZE requested */
};

/*
 * Parse INFO/GO data: name length, name, count, count info types.
 * Returns 0 or -EINVAL if the lengths disagree with @len or the name is
 * not a valid string (reply NBD_REP_ERR_INVALID).  Unknown info types
 * are ignored, as proto.md requires.
 */
int nbd_opt_parse_go(const uint8_t *data, uint32_t len,
		     struct nbd_opt_go *out);

/* *_META_CONTEXT data, parsed.  Pointers borrow @data. */
struct nbd_opt_meta {
	const uint8_t *name;
	uint32_t name_len;
	uint32_t n_queries;
	const uint8_t *queries;	/* n_queries x { len(4) string } */
	uint32_t queries_len;
};

/*
 * Parse *_META_CONTEXT data; every query length is checked to fit.
 * Returns 0, -EINVAL (malformed: NBD_REP_ERR_INVALID) or -E2BIG (more
 * than NBD_MAX_META_QUERIES: NBD_REP_ERR_TOO_BIG).
 */
int nbd_opt_parse_meta(const uint8_t *data, uint32_t len,
		       struct nbd_opt_meta *out);

/*
 * Query @i (0-based, < n_queries) of a parsed option: sets *q and *qlen.
 * Only valid after nbd_opt_parse_meta() succeeded.
 */
void nbd_opt_meta_query(const struct nbd_opt_meta *m, uint32_t i,
			const uint8_t **q, uint32_t *qlen);

/*
 * Does query @q (@qlen bytes) select base:allocation?  For LIST
 * (@list true) "base:" is a wildcard that does; for SET it selects
 * nothing.  Unknown namespaces and leaf names select nothing.
 */
bool nbd_meta_query_selects_base_allocation(const uint8_t *q, uint32_t qlen,
					    bool list);

/* ---- encoders (protocol.c) --------------------------------------------- */

/* Server greeting: NBD_GREETING_LEN bytes. */
void nbd_encode_greeting(uint8_t *buf);

/* Option reply header: NBD_OPT_REPLY_HDR_LEN bytes. */
void nbd_encode_opt_reply(uint8_t *buf, uint32_t option, uint32_t type,
			  uint32_t length);

/* NBD_REP_INFO payloads; return their length. */
size_t nbd_encode_info_export(uint8_t *buf /* 12 */, uint64_t size,
			      uint16_t eflags);
size_t nbd_encode_info_block_size(uint8_t *buf /* 14 */, uint32_t min,
				  uint32_t preferred, uint32_t max);

/* Simple reply: NBD_SIMPLE_REPLY_LEN bytes. */
void nbd_encode_simple_reply(uint8_t *buf, uint32_t error, uint64_t handle);

/* Structured reply chunk header: NBD_CHUNK_HDR_LEN bytes. */
void nbd_encode_chunk(uint8_t *buf, uint16_t flags, uint16_t type,
		      uint64_t handle, uint32_t length);

/* ---- block status (protocol.c) ----------------------------------------- */

/*
 * Builds the descriptors of an NBD_REPLY_TYPE_BLOCK_STATUS chunk from the
 * extents a backend reports, following proto.md: descriptors start at
 * the request's offset and are contiguous, adjacent extents with the same
 * status merge, each length fits 32 bits and is non-zero; with REQ_ONE
 * exactly one descriptor no longer than the request; otherwise the
 * descriptors stop once they cover the request (the last one clipped to
 * it) or @max_desc are used.  Gaps in the backend's report read as data
 * (status 0, always safe).
 */
struct nbd_extent_builder {
	uint8_t *desc;		/* caller's array: max_desc x 8 bytes */
	uint32_t max_desc;
	uint32_t n_desc;
	uint64_t start;		/* the request's offset */
	uint64_t end;		/* offset + length */
	uint64_t pos;		/* covered up to here */
	bool req_one;
	bool full;		/* no more descriptors wanted */
};

void nbd_extents_init(struct nbd_extent_builder *b, uint8_t *desc,
		      uint32_t max_desc, uint64_t offset, uint32_t length,
		      bool req_one);
/*
 * Add [off, off + len) with @allocated (0: hole, reads as zeros).
 * Returns 1 once no more extents are wanted (so a backend's walk can
 * stop), else 0.
 */
int nbd_extents_add(struct nbd_extent_builder *b, uint64_t off,
		    uint64_t len, bool allocated);
/*
 * Finish: if nothing was added, one descriptor of status 0 covers the
 * request.  Returns the descriptor bytes (n_desc x 8).
 */
uint32_t nbd_extents_finish(struct nbd_extent_builder *b);

#endif /* BS_NBD_PROTO_H */
