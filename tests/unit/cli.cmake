# SPDX-License-Identifier: Apache-2.0
# Unit tests of the basalt CLI's pure parts (client/cli/).
basalt_add_unit_test(test_cli_output
	${CMAKE_SOURCE_DIR}/tests/unit/test_cli_output.c
	${CMAKE_SOURCE_DIR}/client/cli/output.c)
target_include_directories(test_cli_output PRIVATE
	${CMAKE_SOURCE_DIR}/client/cli)

# The data commands' pure helpers: zero-run detection (import, export),
# PG ids and object names, latency percentiles (bench), byte formatting.
basalt_add_unit_test(test_cli_data
	${CMAKE_SOURCE_DIR}/tests/unit/test_cli_data.c
	${CMAKE_SOURCE_DIR}/client/cli/zeros.c
	${CMAKE_SOURCE_DIR}/client/cli/names.c
	${CMAKE_SOURCE_DIR}/client/cli/latency.c
	${CMAKE_SOURCE_DIR}/client/cli/output.c)
target_include_directories(test_cli_data PRIVATE
	${CMAKE_SOURCE_DIR}/client/cli)

# 'basalt status' and 'pg ls': health checks merged worst first, PG state
# filters.
basalt_add_unit_test(test_cli_status
	${CMAKE_SOURCE_DIR}/tests/unit/test_cli_status.c
	${CMAKE_SOURCE_DIR}/client/cli/health.c)
target_include_directories(test_cli_status PRIVATE
	${CMAKE_SOURCE_DIR}/client/cli)
