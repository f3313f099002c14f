# SPDX-License-Identifier: Apache-2.0
# Configuration files and number parsing (common/conf.c, common/parse.c).
basalt_add_unit_test(test_parse ${CMAKE_SOURCE_DIR}/tests/unit/test_parse.c)
basalt_add_unit_test(test_conf ${CMAKE_SOURCE_DIR}/tests/unit/test_conf.c)
# test_conf also checks that docs/basalt.conf.example stays valid.
target_compile_definitions(test_conf PRIVATE
	BS_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
