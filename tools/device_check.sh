#!/bin/bash
# SPDX-License-Identifier: MIT
# One run on the GPU machine: build joules, show `joules list` and
# `joules gpu`, compare them with nvidia-smi and pynvml, measure burst
# energies (tools/device_check.py, references traced by tools/nvml_trace.c
# in their own processes) and the boundary cost
# (bench/nvml_boundary.c). Everything lands in $OUT (default ./device-out).
#
# json-c's headers may be missing there: Debian's libjson-c-dev/libjson-c5
# .debs in .debs/ (carried along) are unpacked into a private prefix.
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/device_check.log") 2>&1
cd "$(dirname "$0")/.."

echo "== $(date -u +%FT%TZ) $(uname -r)"
nvidia-smi -L
. tools/device_debs.sh
pkg-config --exists json-c || { echo "json-c headers missing and no .debs/: cannot build"; exit 1; }

# Built with gcc directly, not meson: the GPU machine may lack cairo and
# fontconfig, so the CLI is built without `joules plot` (every cli/*.c but
# plot*.c, no JOULES_HAVE_PLOT), as meson does without cairo.
B=build-device
mkdir -p "$B/lib" "$B/cli" "$B/bench"
CFLAGS="-std=c11 -O2 -g -D_GNU_SOURCE -fvisibility=hidden -Wall -Wextra -Iinclude -Idaemon"
# No curses there either: top_draw.c (the live view) is left out, as meson does.
CLI_SOURCES="$(ls cli/*.c | grep -v -e '^cli/plot' -e '^cli/top_draw') lib/utf8.c"
LIB_SOURCES="lib/*.c lib/backends/*.c lib/backends/nvml/*.c lib/backends/daemon/*.c daemon/proto.c"
{
	gcc $CFLAGS -fPIC -shared -Ilib $LIB_SOURCES -o "$B/lib/libjoules.so.0" \
		-Wl,-soname,libjoules.so.0 -Wl,--version-script=lib/libjoules.map -lpthread -ldl &&
	ln -sf libjoules.so.0 "$B/lib/libjoules.so" &&
	gcc $CFLAGS -Icli -Ilib $CLI_SOURCES -o "$B/cli/joules" \
		$(pkg-config --cflags --libs json-c) -L"$B/lib" -ljoules -lm -Wl,-rpath,"$PWD/$B/lib" &&
	gcc $CFLAGS bench/nvml_boundary.c bench/report.c -o "$B/bench/bench_nvml_boundary" \
		-L"$B/lib" -ljoules -ldl -Wl,-rpath,"$PWD/$B/lib" &&
	gcc $CFLAGS -Ilib -Ilib/backends/nvml tools/nvml_trace.c -o "$B/nvml_trace" -ldl
} > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
J=$B/cli/joules

echo "== joules list"; $J list | tee "$OUT/list.txt"
echo "== joules gpu"; $J gpu | tee "$OUT/gpu.txt"
$J gpu --json > "$OUT/gpu.json"
echo "== nvidia-smi"
nvidia-smi --query-gpu=name,uuid,pci.bus_id,memory.total,memory.used,power.limit,power.draw,driver_version \
	--format=csv | tee "$OUT/nvidia-smi.csv"
echo "== boundary cost (idle GPU)"; $B/bench/bench_nvml_boundary | tee "$OUT/boundary.txt"
echo "== bursts"
python3 tools/device_check.py "$PWD/$B/lib/libjoules.so" "$PWD/$B/nvml_trace" "$OUT"
echo "== boundary cost (after load)"; $B/bench/bench_nvml_boundary | tee -a "$OUT/boundary.txt"
echo "== done"
