# SPDX-License-Identifier: Apache-2.0
# Erasure coding (common/ec.c): pure stripe maths on ISA-L, and its
# micro-benchmark (bench/ec_bench.c, not a test: run it by hand).
basalt_add_unit_test(test_ec ${CMAKE_SOURCE_DIR}/tests/unit/test_ec.c)
add_executable(ec_bench ${CMAKE_SOURCE_DIR}/bench/ec_bench.c)
target_link_libraries(ec_bench PRIVATE bs_common)
