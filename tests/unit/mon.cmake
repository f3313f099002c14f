# SPDX-License-Identifier: Apache-2.0
# Unit tests of the mon: the pure state machine, and the fsm on libraft's
# deterministic fixture.
basalt_add_unit_test(test_mon_state
	${CMAKE_SOURCE_DIR}/tests/unit/test_mon_state.c LIBS bs_mon_state)
basalt_add_unit_test(test_mon_raft
	${CMAKE_SOURCE_DIR}/tests/unit/test_mon_raft.c LIBS bs_mon_state)
basalt_add_unit_test(test_monc ${CMAKE_SOURCE_DIR}/tests/unit/test_monc.c)
basalt_add_unit_test(test_mon_osdmon
	${CMAKE_SOURCE_DIR}/tests/unit/test_mon_osdmon.c LIBS bs_mon_state)
basalt_add_unit_test(test_mon_health
	${CMAKE_SOURCE_DIR}/tests/unit/test_mon_health.c LIBS bs_mon_state)
# basalt-mon-fake-osd: beacons, failure reports and health reads against
# real mons (tests/cluster/test_mon_osd_failure.sh); not a unit test.
add_executable(basalt-mon-fake-osd ${CMAKE_SOURCE_DIR}/tests/tools/mon_fake_osd.c)
target_link_libraries(basalt-mon-fake-osd PRIVATE bs_common)
