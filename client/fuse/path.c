// SPDX-License-Identifier: Apache-2.0
/*
 * basalt-fuse: map a path of the mount to a pool and a volume name
 * ("/POOL/NAME"); pure, unit-tested by tests/unit/test_fuse_path.c.
 */
#include <errno.h>
#include <string.h>

#include "bfuse.h"

int bfs_split_path(const char *path, char *pool, char *name)
{
	const char *p = path + 1, *slash;
	size_t len;

	if (path[0] != '/')
		return -ENOENT;
	if (!*p)
		return 0;
	slash = strchr(p, '/');
	len = slash ? (size_t)(slash - p) : strlen(p);
	if (!len || len > BFS_NAME_MAX)
		return -ENOENT;
	memcpy(pool, p, len);
	pool[len] = '\0';
	if (!slash)
		return 1;
	p = slash + 1;
	len = strlen(p);
	if (!len || len > BFS_NAME_MAX || strchr(p, '/'))
		return -ENOENT;
	memcpy(name, p, len + 1);
	return 2;
}
