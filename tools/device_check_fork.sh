#!/bin/bash
# SPDX-License-Identifier: MIT
# On the GPU machine: libjoules across fork() with the real NVML
# (tools/fork_check.c: 200 children refuse and close the inherited context,
# every 10th (or every $2-th) measures the GPU with its own). Built with gcc, as
# tools/device_check.sh does. Output in $OUT (default ./device-out).
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
cd "$(dirname "$0")/.."
B=build-device-fork
mkdir -p "$B"
CFLAGS="-std=c11 -O2 -g -D_GNU_SOURCE -fvisibility=hidden -Wall -Wextra -Iinclude"
gcc $CFLAGS -fPIC -shared -Ilib -Idaemon lib/*.c lib/backends/*.c lib/backends/nvml/*.c \
	lib/backends/daemon/*.c daemon/proto.c -o "$B/libjoules.so.0" \
	-Wl,-soname,libjoules.so.0 -lpthread -ldl -lm &&
	gcc $CFLAGS tools/fork_check.c -o "$B/fork_check" "$B/libjoules.so.0" \
		-Wl,-rpath,"$PWD/$B" || exit 1
nvidia-smi -L | tee "$OUT/fork_check.log"
timeout 500 "$B/fork_check" "${1:-200}" "${2:-10}" 2>&1 | tee -a "$OUT/fork_check.log"
exit "${PIPESTATUS[0]}"
