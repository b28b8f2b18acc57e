#!/bin/bash
# SPDX-License-Identifier: MIT
# The benchmarks on the GPU machine, GPU rows included: builds with gcc
# (no meson, json-c or cairo needed there) the library, joulesd, the rig's
# fakesys and bench/*.c into build-device-bench/, laid out as meson would,
# then runs `bench/run --gpu` on it. `joules plot` is not built here, so
# its rows are left out (the development machine's table has them); nor is
# joulesd where libmicrohttpd's headers are missing (its --metrics needs
# them): then the daemon's rows are left out too. Nor is the CLI (json-c):
# bench_gpu_cost's `joules run` row is skipped here (tools/device_check_cost.sh
# has it), and its fake-NVML rows too (the fake is not built here).
# Output in $OUT (default ./device-out): bench.log, bench.json, bench.md.
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/bench.log") 2>&1
cd "$(dirname "$0")/.."
. tools/device_debs.sh

echo "== $(date -u +%FT%TZ) $(uname -r); nvidia-smi -L:"; nvidia-smi -L || echo "(no nvidia-smi)"
B=build-device-bench
mkdir -p "$B/lib" "$B/daemon" "$B/tests" "$B/bench"
CFLAGS="-std=c11 -O2 -g -D_GNU_SOURCE -fvisibility=hidden -Wall -Wextra -Iinclude -Idaemon"
LIB_SOURCES="lib/*.c lib/backends/*.c lib/backends/nvml/*.c lib/backends/daemon/*.c daemon/proto.c"
RIG="tests/rig/fakesys.c tests/rig/layouts*.c"
LINK="-L$B/lib -ljoules -Wl,-rpath,$PWD/$B/lib -lpthread -ldl -lm"
SKIP=plot
# The header, not pkg-config: libmicrohttpd.pc requires gnutls.pc, absent there.
if echo "#include <microhttpd.h>" | gcc -E - >/dev/null 2>&1; then
	JOULESD_SOURCES="daemon/joulesd.c daemon/access.c daemon/log.c daemon/metrics.c
		daemon/metrics_format.c daemon/page.c daemon/privdrop.c daemon/publish.c daemon/server.c"
	MHD=-lmicrohttpd
else
	echo "libmicrohttpd's headers are missing (libmicrohttpd-dev): joulesd's rows left out"
	SKIP=plot,daemon
fi
{
	gcc $CFLAGS -fPIC -shared -Ilib $LIB_SOURCES -o "$B/lib/libjoules.so.0" \
		-Wl,-soname,libjoules.so.0 -Wl,--version-script=lib/libjoules.map -lpthread -ldl -lm &&
	ln -sf libjoules.so.0 "$B/lib/libjoules.so" &&
	{ [ "$SKIP" != plot ] || gcc $CFLAGS -Ilib $JOULESD_SOURCES $LIB_SOURCES \
		-o "$B/daemon/joulesd" $MHD -lpthread -ldl -lm; } &&
	gcc $CFLAGS -Itests/rig tests/rig/fakesys_tool.c $RIG -o "$B/tests/fakesys" &&
	gcc $CFLAGS -Itests/rig bench/snapshot.c bench/alloc_count.c bench/report.c bench/measure.c $RIG \
		-o "$B/bench/bench_snapshot" $LINK &&
	gcc $CFLAGS -Itests/rig bench/daemon.c bench/daemon_load.c bench/report.c bench/measure.c daemon/proto.c $RIG \
		-o "$B/bench/bench_daemon" $LINK &&
	gcc $CFLAGS -Itests/rig bench/region_sampler.c bench/report.c bench/measure.c $RIG \
		-o "$B/bench/bench_region_sampler" $LINK &&
	gcc $CFLAGS bench/nvml_boundary.c bench/report.c bench/measure.c -o "$B/bench/bench_nvml_boundary" $LINK &&
	gcc $CFLAGS bench/gpu_cost.c bench/report.c bench/measure.c -o "$B/bench/bench_gpu_cost" $LINK
} > "$OUT/bench_build.log" 2>&1 || { tail -40 "$OUT/bench_build.log"; exit 1; }

python3 bench/run --builddir "$B" --gpu --skip "$SKIP" --json "$OUT/bench.json" \
	--markdown "$OUT/bench.md"
echo "== done (exit $?)"
