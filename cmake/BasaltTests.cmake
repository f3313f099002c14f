# SPDX-License-Identifier: Apache-2.0
# Helpers to declare unit tests (cmocka executables) and cluster tests
# (shell scripts under tests/cluster) so that ctest runs both alike.

# basalt_add_unit_test(NAME SOURCES... [LIBS ...])
function(basalt_add_unit_test name)
	cmake_parse_arguments(T "" "" "LIBS" ${ARGN})
	add_executable(${name} ${T_UNPARSED_ARGUMENTS})
	target_link_libraries(${name} PRIVATE bs_common PkgConfig::CMOCKA ${T_LIBS})
	add_test(NAME ${name} COMMAND ${name})
	set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 120
		ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
endfunction()

# basalt_add_shell_test(SCRIPT [TIMEOUT s] [LABELS ...])
# Exit status 77 means "skipped" (a client the test needs is missing).
function(basalt_add_shell_test script)
	cmake_parse_arguments(T "" "TIMEOUT" "LABELS" ${ARGN})
	if(NOT T_TIMEOUT)
		set(T_TIMEOUT 300)
	endif()
	if(NOT T_LABELS)
		set(T_LABELS cluster)
	endif()
	get_filename_component(name ${script} NAME_WE)
	add_test(NAME ${name}
		COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/${script})
	set_tests_properties(${name} PROPERTIES
		SKIP_RETURN_CODE 77 TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}"
		ENVIRONMENT "BASALT_BIN=${CMAKE_BINARY_DIR}/bin;BASALT_SRC=${CMAKE_SOURCE_DIR};ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
endfunction()
