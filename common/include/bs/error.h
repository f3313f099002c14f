/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error convention: fallible functions return 0 (or a count) on success and
 * a negative errno on failure.  Where a person will read the failure, the
 * details travel in an optional struct bs_error filled by the callee.
 */
#ifndef BS_ERROR_H
#define BS_ERROR_H

#include <stdlib.h>

#include "bs/compiler.h"

#define BS_ERROR_MSG_MAX 512

/* Invariant: code == 0 iff msg is empty. */
struct bs_error {
	int code;			/* negative errno, 0 when clear */
	char msg[BS_ERROR_MSG_MAX];	/* one line, lowercase, no full stop */
};

/*
 * Record @code (a negative errno) and a formatted message in @err, which may
 * be NULL.  Returns @code so that "return bs_error_set(...)" is one line.
 */
int bs_error_set(struct bs_error *err, int code, const char *fmt, ...)
	BS_PRINTF(3, 4);

/* Like bs_error_set(), and appends ": <strerror(-code)>". */
int bs_error_errno(struct bs_error *err, int code, const char *fmt, ...)
	BS_PRINTF(3, 4);

/* Prefix an existing message with more context ("pool 'rbd': <old>"). */
int bs_error_prefix(struct bs_error *err, const char *fmt, ...)
	BS_PRINTF(2, 3);

void bs_error_clear(struct bs_error *err);

/* Allocation that aborts with a message: daemons' control paths only. */
void *bs_xmalloc(size_t size);
void *bs_xcalloc(size_t n, size_t size);
void *bs_xrealloc(void *p, size_t size);
char *bs_xstrdup(const char *s);

/* free(*pp) and clear the pointer. */
#define bs_free(pp) do { free(*(pp)); *(pp) = NULL; } while (0)

#endif /* BS_ERROR_H */
