#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The one test command: install dependencies, build with AddressSanitizer
# and UndefinedBehaviorSanitizer (warnings are errors), run every test
# through ctest.  Exits non-zero if anything fails.
#
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    only unit tests (extra arguments go to ctest)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BASALT_TEST_BUILD:-$src/build/test}

"$src/scripts/install-deps.sh"

# clang builds the libFuzzer targets too; gcc is the fallback.
cc=${CC:-}
if [ -z "$cc" ]; then
	if command -v clang >/dev/null; then cc=clang; else cc=cc; fi
fi

# The fio ioengine needs the Debian source of the installed fio (fetched
# once into build/fio-src).  Set BASALT_FIO=OFF to build without it (its
# test is then skipped).
fio=${BASALT_FIO:-ON}
if [ "$fio" = ON ] && ! "$src/scripts/fetch-fio-headers.sh" >/dev/null; then
	echo "test.sh: cannot fetch fio's source for the fio ioengine (see above); BASALT_FIO=OFF skips it" >&2
	exit 1
fi

cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_BUILD_TYPE=Debug -DBASALT_SANITIZE=ON -DBASALT_WERROR=ON \
	-DBASALT_FUZZ=ON -DBASALT_FIO="$fio" >/dev/null
cmake --build "$build" -j"$(nproc)"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cd "$build"
ctest --output-on-failure --timeout 600 -j"$(nproc)" "$@"
