# SPDX-License-Identifier: Apache-2.0
# Unit tests of the logical-size record of erasure-coded objects
# (osd/ec_meta.c).
basalt_add_unit_test(test_osd_ec_meta
	${CMAKE_SOURCE_DIR}/tests/unit/test_osd_ec_meta.c
	${CMAKE_SOURCE_DIR}/osd/ec_meta.c
	LIBS bs_store)
target_include_directories(test_osd_ec_meta PRIVATE ${CMAKE_SOURCE_DIR}/osd)
