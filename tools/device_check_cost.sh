#!/bin/bash
# SPDX-License-Identifier: MIT
# What an open context costs on this machine's GPUs (issue 20), in one call
# on the GPU machine, in well under 3 minutes: builds (tools/device_build.sh,
# gcc only) and runs bench/gpu_cost.c on the real NVML through bench/run:
# CPU time per wall second of a context opened and left idle (past the
# sampler's 2 s linger) and of one with a region open (per GPU), against
# what the old cadence's NVML calls cost (their own CPU time, timed there);
# joules_open() to the first reading; `joules run -- true`. NVML always
# enumerates every GPU of the host, so a context samples them all: the
# per-GPU rows are the figure for one GPU, the idle row is for all of them
# (run it on a one-GPU machine for the one-GPU idle figure).
# Output in $OUT (default ./device-out): cost.log, cost.json, cost.md.
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/cost.log") 2>&1
cd "$(dirname "$0")/.."
echo "== $(date -u +%FT%TZ) $(uname -r)"
nvidia-smi -L
nvidia-smi --query-gpu=driver_version,power.draw,power.limit --format=csv,noheader
. tools/device_build.sh
mkdir -p "$B/bench"
gcc $CFLAGS bench/gpu_cost.c bench/report.c bench/measure.c -o "$B/bench/bench_gpu_cost" \
	-L"$B/lib" -ljoules -ldl -Wl,-rpath,"$PWD/$B/lib" >> "$OUT/build.log" 2>&1 ||
	{ tail -20 "$OUT/build.log"; exit 1; }
echo "== bench/gpu_cost.c on the real NVML"
python3 bench/run --builddir "$B" --gpu --only gpu_cost_real --json "$OUT/cost.json" \
	--markdown "$OUT/cost.md"
echo "== done (exit $?)"
