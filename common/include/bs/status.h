/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire status codes.  errno numbers are not a wire format: replies carry a
 * BS_ERR_* code, mapped to and from -errno at the messenger edge.
 */
#ifndef BS_STATUS_H
#define BS_STATUS_H

enum bs_status {
	BS_OK = 0,
	BS_ERR_INVAL = 1,	/* EINVAL */
	BS_ERR_NOENT = 2,	/* ENOENT */
	BS_ERR_EXIST = 3,	/* EEXIST */
	BS_ERR_NOSPC = 4,	/* ENOSPC */
	BS_ERR_IO = 5,		/* EIO */
	BS_ERR_AGAIN = 6,	/* EAGAIN: retry, e.g. after a new map */
	BS_ERR_NOQUORUM = 7,	/* ENOTCONN on the mon: no majority */
	BS_ERR_NOTLEADER = 8,	/* EREMOTE: ask the leader */
	BS_ERR_TIMEDOUT = 9,	/* ETIMEDOUT */
	BS_ERR_RANGE = 10,	/* ERANGE: outside the volume */
	BS_ERR_PERM = 11,	/* EPERM */
	BS_ERR_BUSY = 12,	/* EBUSY */
	BS_ERR_STALE = 13,	/* ESTALE: sender's map epoch is old */
	BS_ERR_BADMSG = 14,	/* EBADMSG: checksum mismatch */
	BS_ERR_NOTSUP = 15,	/* EOPNOTSUPP */
	BS_ERR_NOTEMPTY = 16,	/* ENOTEMPTY */
	BS_ERR_TOOBIG = 17,	/* EFBIG / EMSGSIZE */
	BS_ERR_CANCELED = 18,	/* ECANCELED */
};

/* -errno -> status; unknown errnos map to BS_ERR_IO. */
int bs_status_from_errno(int neg_errno);
/* status -> -errno; unknown statuses map to -EIO. */
int bs_status_to_errno(int status);

#endif /* BS_STATUS_H */
