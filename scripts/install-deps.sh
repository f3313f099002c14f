#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install every build and test dependency of Basalt from Debian packages.
# Idempotent: does nothing (and touches no network) when all are present.
set -euo pipefail

BUILD_DEPS=(
	build-essential cmake pkg-config
	liburing-dev libisal-dev librocksdb-dev
	libprotobuf-c-dev protobuf-c-compiler
	libfuse3-dev libraft-dev libuv1-dev libcmocka-dev
	clang libclang-rt-dev
	dpkg-dev
)
TEST_DEPS=(
	qemu-utils libnbd-bin fio e2fsprogs fuse3 python3 procps iproute2 jq
)

missing=()
for p in "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
