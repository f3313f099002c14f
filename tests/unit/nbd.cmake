# SPDX-License-Identifier: Apache-2.0
# basalt-nbd (client/nbd): the pure protocol code.  The server is tested
# with real NBD clients against real daemons in tests/cluster/test_nbd_*.sh.
if(TARGET bs_nbd_proto)
	basalt_add_unit_test(test_nbd_protocol
		${CMAKE_SOURCE_DIR}/tests/unit/test_nbd_protocol.c
		LIBS bs_nbd_proto)
endif()
