# SPDX-License-Identifier: MIT
# Sourced by the tools/device_*.sh scripts on the GPU machine: builds, with
# gcc directly (no meson, cairo or curses there), libjoules, the CLI without
# `plot` and the live view, and tools/nvml_trace into $B (default
# build-device), json-c from .debs/ when its headers are missing
# (tools/device_debs.sh). Sets J (the CLI), LIBJOULES and NVML_TRACE; on a
# failed build shows the log's tail and exits. With DEVICE_BUILT set (by
# tools/device_campaign.sh, which builds once for its parts) only the
# environment is set up: B, J, LIBJOULES, NVML_TRACE and CFLAGS come from it.
. tools/device_debs.sh
if [ -z "${DEVICE_BUILT:-}" ]; then
pkg-config --exists json-c || { echo "json-c headers missing and no .debs/: cannot build"; exit 1; }
B=${B:-build-device}
mkdir -p "$B/lib" "$B/cli"
CFLAGS="-std=c11 -O2 -g -D_GNU_SOURCE -fvisibility=hidden -Wall -Wextra -Iinclude -Idaemon"
CLI_SOURCES="$(ls cli/*.c | grep -v -e '^cli/plot' -e '^cli/top_draw') lib/utf8.c"
LIB_SOURCES="lib/*.c lib/backends/*.c lib/backends/nvml/*.c lib/backends/daemon/*.c daemon/proto.c"
{
	gcc $CFLAGS -fPIC -shared -Ilib $LIB_SOURCES -o "$B/lib/libjoules.so.0" \
		-Wl,-soname,libjoules.so.0 -Wl,--version-script=lib/libjoules.map -lpthread -ldl -lm &&
	ln -sf libjoules.so.0 "$B/lib/libjoules.so" &&
	gcc $CFLAGS -Icli -Ilib $CLI_SOURCES -o "$B/cli/joules" \
		$(pkg-config --cflags --libs json-c) -L"$B/lib" -ljoules -lm -Wl,-rpath,"$PWD/$B/lib" &&
	gcc $CFLAGS -Ilib -Ilib/backends/nvml tools/nvml_trace.c -o "$B/nvml_trace" -ldl
} > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
J=$B/cli/joules
LIBJOULES=$PWD/$B/lib/libjoules.so
NVML_TRACE=$PWD/$B/nvml_trace
fi
