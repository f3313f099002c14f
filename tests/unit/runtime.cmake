# SPDX-License-Identifier: Apache-2.0
# Unit tests of the common runtime: event loop, frame codec, messenger.
basalt_add_unit_test(test_loop ${CMAKE_SOURCE_DIR}/tests/unit/test_loop.c)
basalt_add_unit_test(test_frame ${CMAKE_SOURCE_DIR}/tests/unit/test_frame.c)
basalt_add_unit_test(test_msgr ${CMAKE_SOURCE_DIR}/tests/unit/test_msgr.c)
