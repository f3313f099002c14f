# SPDX-License-Identifier: Apache-2.0
# basalt-fuse (client/fuse): the pure path mapping.
basalt_add_unit_test(test_fuse_path
	${CMAKE_SOURCE_DIR}/tests/unit/test_fuse_path.c
	${CMAKE_SOURCE_DIR}/client/fuse/path.c)
target_include_directories(test_fuse_path PRIVATE
	${CMAKE_SOURCE_DIR}/client/fuse)
