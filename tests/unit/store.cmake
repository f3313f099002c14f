# SPDX-License-Identifier: Apache-2.0
# Unit tests of the OSD object store (osd/store).
set(BS_STORE_DIR ${CMAKE_SOURCE_DIR}/osd/store)
basalt_add_unit_test(test_store_alloc
	${CMAKE_SOURCE_DIR}/tests/unit/test_store_alloc.c
	${BS_STORE_DIR}/alloc.c)
target_include_directories(test_store_alloc PRIVATE ${BS_STORE_DIR})
basalt_add_unit_test(test_store_extmap
	${CMAKE_SOURCE_DIR}/tests/unit/test_store_extmap.c
	${BS_STORE_DIR}/extmap.c)
target_include_directories(test_store_extmap PRIVATE ${BS_STORE_DIR})
basalt_add_unit_test(test_store ${CMAKE_SOURCE_DIR}/tests/unit/test_store.c
	LIBS bs_store)
basalt_add_unit_test(test_store_crash
	${CMAKE_SOURCE_DIR}/tests/unit/test_store_crash.c LIBS bs_store)
basalt_add_unit_test(test_store_bench
	${CMAKE_SOURCE_DIR}/tests/unit/test_store_bench.c LIBS bs_store)
basalt_add_unit_test(test_store_journal
	${CMAKE_SOURCE_DIR}/tests/unit/test_store_journal.c LIBS bs_store)
