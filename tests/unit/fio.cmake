# SPDX-License-Identifier: Apache-2.0
# The fio engine's completion ring (fio-plugins/completion_ring.c): pure
# pthreads, built and tested whether or not BASALT_FIO is on.
basalt_add_unit_test(test_fio_ring
	${CMAKE_SOURCE_DIR}/tests/unit/test_fio_ring.c
	${CMAKE_SOURCE_DIR}/fio-plugins/completion_ring.c)
target_include_directories(test_fio_ring PRIVATE
	${CMAKE_SOURCE_DIR}/fio-plugins)
