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
basalt_add_unit_test(test_mon_state_history
	${CMAKE_SOURCE_DIR}/tests/unit/test_mon_state_history.c
	LIBS bs_mon_state)
