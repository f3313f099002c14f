// SPDX-License-Identifier: Apache-2.0
/*
 * Wire status codes (enum bs_status) to and from negative errnos: the
 * messenger edge converts, errno numbers never travel.
 */
#include <errno.h>

#include "bs/compiler.h"
#include "bs/status.h"

/* clang-format off */
static const int status_errno[] = {
	[BS_OK]			= 0,
	[BS_ERR_INVAL]		= EINVAL,
	[BS_ERR_NOENT]		= ENOENT,
	[BS_ERR_EXIST]		= EEXIST,
	[BS_ERR_NOSPC]		= ENOSPC,
	[BS_ERR_IO]		= EIO,
	[BS_ERR_AGAIN]		= EAGAIN,
	[BS_ERR_NOQUORUM]	= ENOTCONN,
	[BS_ERR_NOTLEADER]	= EREMOTE,
	[BS_ERR_TIMEDOUT]	= ETIMEDOUT,
	[BS_ERR_RANGE]		= ERANGE,
	[BS_ERR_PERM]		= EPERM,
	[BS_ERR_BUSY]		= EBUSY,
	[BS_ERR_STALE]		= ESTALE,
	[BS_ERR_BADMSG]		= EBADMSG,
	[BS_ERR_NOTSUP]		= EOPNOTSUPP,
	[BS_ERR_NOTEMPTY]	= ENOTEMPTY,
	[BS_ERR_TOOBIG]		= EFBIG,
	[BS_ERR_CANCELED]	= ECANCELED,
};
/* clang-format on */

int bs_status_from_errno(int neg_errno)
{
	int e = neg_errno < 0 ? -neg_errno : neg_errno;

	if (e == 0)
		return BS_OK;
	if (e == EMSGSIZE)
		return BS_ERR_TOOBIG;
	if (e == EACCES)
		return BS_ERR_PERM;
	for (unsigned i = 1; i < ARRAY_SIZE(status_errno); i++)
		if (status_errno[i] == e)
			return (int)i;
	return BS_ERR_IO;
}

int bs_status_to_errno(int status)
{
	if (status < 0 || (unsigned)status >= ARRAY_SIZE(status_errno))
		return -EIO;
	return -status_errno[status];
}
