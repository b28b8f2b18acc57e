#!/bin/bash
# SPDX-License-Identifier: MIT
# On the GPU machine: the Python bindings with real GPUs (load isolation per
# GPU, gpus= and CUDA_VISIBLE_DEVICES), run by the torch environment's
# python on libjoules built with gcc. Output in $OUT (default ./device-out).
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/python_check.log") 2>&1
cd "$(dirname "$0")/.."
B=build-device-python
mkdir -p "$B"
CFLAGS="-std=c11 -O2 -g -D_GNU_SOURCE -fvisibility=hidden -Wall -Wextra -Iinclude -Idaemon"
gcc $CFLAGS -fPIC -shared -Ilib lib/*.c lib/backends/*.c lib/backends/nvml/*.c lib/backends/daemon/*.c \
	daemon/proto.c -o "$B/libjoules.so.0" -Wl,-soname,libjoules.so.0 \
	-Wl,--version-script=lib/libjoules.map -lpthread -ldl -lm || exit 1
PY=python3
[ -x /opt/torch/.venv/bin/python3 ] && PY=/opt/torch/.venv/bin/python3
export JOULES_LIBRARY=$PWD/$B/libjoules.so.0 PYTHONPATH=$PWD/python
echo "== $(date -u +%FT%TZ)"; nvidia-smi -L
rc=0
$PY tools/device_check_python.py || rc=1
N=$(nvidia-smi -L | wc -l)
if [ "$N" -ge 2 ]; then
	echo "== CUDA_VISIBLE_DEVICES=1,0 (cuda:0 is physical GPU 1)"
	CUDA_VISIBLE_DEVICES=1,0 $PY tools/device_check_python.py || rc=1
	echo "== CUDA_VISIBLE_DEVICES=1"
	CUDA_VISIBLE_DEVICES=1 $PY tools/device_check_python.py || rc=1
fi
exit $rc
