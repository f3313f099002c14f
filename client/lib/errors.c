// SPDX-License-Identifier: Apache-2.0
/*
 * The calling thread's last error (basalt_get_error/basalt_get_errno),
 * as libnbd keeps it: set by every failing call, never printed.  Thread
 * local, so that threads sharing a volume do not see each other's errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "basalt_int.h"

static _Thread_local struct {
	int code;			/* positive errno */
	char msg[BS_ERROR_MSG_MAX];
} last_error;

int lib_set_error(int code, const char *fmt, ...)
{
	va_list ap;

	last_error.code = code < 0 ? -code : code;
	va_start(ap, fmt);
	vsnprintf(last_error.msg, sizeof(last_error.msg), fmt, ap);
	va_end(ap);
	return code;
}

int lib_set_bs_error(const struct bs_error *err)
{
	int code = err->code ? err->code : -EIO;

	if (err->msg[0])
		return lib_set_error(code, "%s", err->msg);
	return lib_set_error(code, "%s", strerror(code < 0 ? -code : code));
}

BASALT_EXPORT const char *basalt_get_error(void)
{
	return last_error.msg;
}

BASALT_EXPORT int basalt_get_errno(void)
{
	return last_error.code;
}
