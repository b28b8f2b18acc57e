#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The perf backend's check on a machine with a real `power` PMU (the device
# machine), in one call: show what the kernel offers, build joules, and list
# the sensors while every CPU is busy, so a counter that never advances is
# shown as not counting. Run from the repository root:
#
#     tools/device_check_perf.sh [BUILD_DIR]
#
# With json-c present (or carried in .debs/) it builds the `joules` CLI with
# meson and runs `joules list` and `joules list --json`. Without it (the CLI
# needs it) it compiles the library alone with cc and lists the sensors through
# the public API with a small program written here. Either way a small
# program reads two snapshots 2 s apart under load and prints each sensor's
# energy, or its status and reason.
set -u

build=${1:-build-device-perf}
pmu=/sys/bus/event_source/devices/power
section() { printf '\n== %s\n' "$*"; }

section "machine"
date -u '+%Y-%m-%d %H:%M:%S UTC'
uname -srm
printf 'cpus: %s\n' "$(nproc)"
printf 'kernel.perf_event_paranoid: %s\n' "$(cat /proc/sys/kernel/perf_event_paranoid 2>&1)"
printf 'user: %s\n' "$(id -un)"

section "the power PMU ($pmu)"
if [ -d "$pmu" ]; then
	for f in type cpumask format/*; do
		[ -f "$pmu/$f" ] && printf '%s: %s\n' "$f" "$(cat "$pmu/$f")"
	done
	for f in "$pmu"/events/*; do
		printf 'events/%s: %s\n' "${f##*/}" "$(cat "$f")"
	done
else
	echo "no power PMU"
fi
printf 'powercap: %s\n' "$(ls /sys/class/powercap 2>&1 | tr '\n' ' ')"

# Every CPU busy for the rest of the check.
load_pids=
for _ in $(seq "$(nproc)"); do
	sh -c 'while :; do :; done' &
	load_pids="$load_pids $!"
done
trap 'kill $load_pids 2>/dev/null' EXIT INT TERM
section "load: $(nproc) busy loops started"

# The public API only: two snapshots 2 s apart.
lister_src=$(mktemp -d)/two_snapshots.c
cat >"$lister_src" <<'EOF'
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "joules.h"

int main(void)
{
	joules_ctx *ctx;
	int r = joules_open(&ctx, NULL);
	if (r < 0) {
		fprintf(stderr, "joules_open: %s\n", joules_strerror(r));
		return 1;
	}
	size_t n = joules_sensor_count(ctx);
	struct joules_reading *a = calloc(n + 1, sizeof *a), *b = calloc(n + 1, sizeof *b);
	joules_read(ctx, a, n);
	sleep(2);
	joules_read(ctx, b, n);
	for (size_t i = 0; i < n; i++) {
		const struct joules_sensor *s = joules_sensor(ctx, i);
		uint64_t uj;
		int d = joules_delta(&a[i], &b[i], &uj);
		printf("%-18s %-8s %-12s ", s->id, s->source, joules_kind_name(s->kind));
		if (d == 0)
			printf("%10.3f J in 2 s (%.1f W)", uj / 1e6, uj / 2e6);
		else
			printf("%s: %s", joules_strerror(d),
			       *s->reason ? s->reason : joules_sensor_error(ctx, i));
		printf("%s%s%s\n", *s->also ? " [also: " : "", s->also, *s->also ? "]" : "");
	}
	free(a);
	free(b);
	joules_close(ctx);
	return 0;
}
EOF

# json-c carried as Debian packages (.debs/, see docs/perf.md) where the
# machine lacks it: unpacked into a prefix of our own, never into /.
if ! pkg-config --exists json-c 2>/dev/null && ls .debs/libjson-c*.deb >/dev/null 2>&1; then
	jc=$(mktemp -d)
	for deb in .debs/libjson-c*.deb; do dpkg -x "$deb" "$jc"; done
	pcdir=$jc/usr/lib/x86_64-linux-gnu/pkgconfig
	sed -i "s|=/usr|=$jc/usr|" "$pcdir/json-c.pc"
	export PKG_CONFIG_PATH=$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
	export LD_LIBRARY_PATH=$jc/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	echo "json-c: unpacked from .debs into $jc"
fi

built_cli=no
if pkg-config --exists json-c 2>/dev/null; then
	section "build (meson, ninja; joules plot only if cairo is here)"
	if { [ -f "$build/build.ninja" ] || meson setup "$build" >"$build.setup.log" 2>&1; } &&
		ninja -C "$build" cli/joules >"$build.ninja.log" 2>&1; then
		built_cli=yes
		lib="$build/lib/libjoules.so"
		section "joules list"
		"$build/cli/joules" list
		section "joules list --json"
		"$build/cli/joules" list --json
	else
		echo "meson build failed; the library alone instead:"
		tail -n 5 "$build.setup.log" "$build.ninja.log" 2>/dev/null
	fi
else
	echo "json-c: missing (libjson-c-dev) and not carried in .debs/: no joules CLI here"
fi
if [ "$built_cli" = no ]; then
	section "build (cc: the library alone)"
	mkdir -p "$build/cc"
	# The library's sources, as lib/meson.build lists them.
	srcs=$(sed -n "/^lib_sources = files(/,/^)/s/^ *'\([^']*\.c\)',\{0,1\}$/lib\/\1/p" lib/meson.build)
	lib="$build/cc/libjoules.so"
	cc -std=c11 -O2 -D_GNU_SOURCE -fvisibility=hidden -fPIC -shared -Iinclude -Ilib \
		-o "$lib" $srcs -ldl -lpthread -lm || exit 1
fi

section "two snapshots 2 s apart, under load"
cc -std=c11 -O2 -Iinclude -o "$build/two_snapshots" "$lister_src" \
	-L"$(dirname "$lib")" -Wl,-rpath,"$(cd "$(dirname "$lib")" && pwd)" -ljoules || exit 1
"$build/two_snapshots"

# The same as a user without privileges: perf_event_paranoid decides.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	section "two snapshots as nobody (kernel.perf_event_paranoid $(cat /proc/sys/kernel/perf_event_paranoid))"
	public=$(mktemp -d)
	chmod 755 "$public"
	cp -L "$lib" "$public/libjoules.so.0"
	cc -std=c11 -O2 -Iinclude -o "$public/two_snapshots" "$lister_src" "$public/libjoules.so.0" \
		-Wl,-rpath,"$public" || exit 1
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$public/two_snapshots"
	rm -rf "$public"
fi
