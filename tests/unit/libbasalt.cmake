# SPDX-License-Identifier: Apache-2.0
# libbasalt (client/lib): the pure request geometry.  The I/O path itself
# is tested against real daemons in tests/cluster/test_libbasalt_*.sh.
basalt_add_unit_test(test_libbasalt_layout
	${CMAKE_SOURCE_DIR}/tests/unit/test_libbasalt_layout.c
	${CMAKE_SOURCE_DIR}/client/lib/layout.c)
target_include_directories(test_libbasalt_layout PRIVATE
	${CMAKE_SOURCE_DIR}/client/lib)
