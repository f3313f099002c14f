# SPDX-License-Identifier: Apache-2.0
# Unit tests of the OSD's data path: the cluster map as it sees it
# (common/osdmap.c).
basalt_add_unit_test(test_osdmap ${CMAKE_SOURCE_DIR}/tests/unit/test_osdmap.c)

# basalt-osd-tool: a tiny data-path client for the cluster tests
# (tests/cluster/test_osd_*.sh); not a unit test.
add_executable(basalt-osd-tool ${CMAKE_SOURCE_DIR}/tests/tools/osd_tool.c)
target_link_libraries(basalt-osd-tool PRIVATE bs_common)
