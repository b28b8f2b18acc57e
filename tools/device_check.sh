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
mkdir -p build-device/bench
. tools/device_build.sh
gcc $CFLAGS bench/nvml_boundary.c bench/report.c bench/measure.c -o "$B/bench/bench_nvml_boundary" \
	-L"$B/lib" -ljoules -ldl -Wl,-rpath,"$PWD/$B/lib" >> "$OUT/build.log" 2>&1 ||
	{ tail -20 "$OUT/build.log"; exit 1; }

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
