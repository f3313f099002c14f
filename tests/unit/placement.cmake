# SPDX-License-Identifier: Apache-2.0
# Placement (common/placement.c): pure logic, no loop, disk or network.
basalt_add_unit_test(test_placement
	${CMAKE_SOURCE_DIR}/tests/unit/test_placement.c LIBS m)
