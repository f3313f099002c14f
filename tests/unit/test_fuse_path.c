// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for client/fuse/path.c: which paths of a basalt-fuse mount
 * name the root, a pool or a volume, and which name nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bfuse.h"

static char pool[BFS_NAME_MAX + 1], name[BFS_NAME_MAX + 1];

static void test_fuse_path_root_pool_and_volume(void **state)
{
	assert_int_equal(bfs_split_path("/", pool, name), 0);

	assert_int_equal(bfs_split_path("/rbd", pool, name), 1);
	assert_string_equal(pool, "rbd");

	assert_int_equal(bfs_split_path("/rbd/vm-1.disk_0", pool, name), 2);
	assert_string_equal(pool, "rbd");
	assert_string_equal(name, "vm-1.disk_0");
}

static void test_fuse_path_rejects_deeper_and_empty_parts(void **state)
{
	static const char *const bad[] = {
		"", "rbd", "rbd/vm1", "//", "//vm1", "/rbd/", "/rbd//vm1",
		"/rbd/vm1/", "/rbd/vm1/x", "/a/b/c/d",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bfs_split_path(bad[i], pool, name) != -ENOENT)
			fail_msg("'%s' was accepted", bad[i]);
	}
}

static void test_fuse_path_rejects_too_long_names(void **state)
{
	char path[2 * BFS_NAME_MAX + 8], longest[BFS_NAME_MAX + 2];

	memset(longest, 'p', BFS_NAME_MAX);
	longest[BFS_NAME_MAX] = '\0';

	/* BFS_NAME_MAX bytes fit, in either part. */
	snprintf(path, sizeof(path), "/%s/%s", longest, longest);
	assert_int_equal(bfs_split_path(path, pool, name), 2);
	assert_int_equal(strlen(pool), BFS_NAME_MAX);
	assert_int_equal(strlen(name), BFS_NAME_MAX);

	/* One more does not, in either part. */
	longest[BFS_NAME_MAX] = 'p';
	longest[BFS_NAME_MAX + 1] = '\0';
	snprintf(path, sizeof(path), "/%s", longest);
	assert_int_equal(bfs_split_path(path, pool, name), -ENOENT);
	snprintf(path, sizeof(path), "/rbd/%s", longest);
	assert_int_equal(bfs_split_path(path, pool, name), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuse_path_root_pool_and_volume),
		cmocka_unit_test(test_fuse_path_rejects_deeper_and_empty_parts),
		cmocka_unit_test(test_fuse_path_rejects_too_long_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
