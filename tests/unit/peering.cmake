# SPDX-License-Identifier: Apache-2.0
# Unit tests of the OSD's peering decision (osd/decide.c) and PG info
# helpers (osd/pginfo.c).
basalt_add_unit_test(test_osd_decide
	${CMAKE_SOURCE_DIR}/tests/unit/test_osd_decide.c
	${CMAKE_SOURCE_DIR}/osd/decide.c ${CMAKE_SOURCE_DIR}/osd/pginfo.c
	LIBS bs_store)
target_include_directories(test_osd_decide PRIVATE ${CMAKE_SOURCE_DIR}/osd)
