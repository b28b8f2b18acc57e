#!/bin/bash
# SPDX-License-Identifier: MIT
# joulesd on the GPU machine (real NVML, real /sys): built with gcc (no
# json-c needed), started as root, dropped to the user `joules`; then
# `nobody` in the group reads every sensor through the page (libjoules by
# ctypes: tests/daemon/jclient.py), `nobody` out of it asks the public
# socket, and the daemon's state after the drop is shown. Output in $OUT.
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/daemon_check.log") 2>&1
cd "$(dirname "$0")/.."
. tools/device_debs.sh
W=/tmp/joulesd-check
rm -rf "$W"
mkdir -p "$W" && chmod 755 "$W"
CFLAGS="-std=c11 -O2 -g -D_GNU_SOURCE -fvisibility=hidden -Wall -Wextra -Iinclude -Idaemon"
LIB_SOURCES="lib/*.c lib/backends/*.c lib/backends/nvml/*.c lib/backends/daemon/*.c daemon/proto.c"
gcc $CFLAGS -fPIC -shared -Ilib $LIB_SOURCES \
	-o "$W/libjoules.so.0" -Wl,-soname,libjoules.so.0 -Wl,--version-script=lib/libjoules.map \
	-lpthread -ldl -lm || exit 1
# joulesd holds the library itself (it serves each sensor's domain, an internal).
gcc $CFLAGS -Ilib daemon/joulesd.c daemon/access.c daemon/log.c daemon/metrics.c daemon/metrics_format.c \
	daemon/page.c daemon/privdrop.c daemon/publish.c daemon/server.c $LIB_SOURCES -o "$W/joulesd" \
	-lmicrohttpd -lpthread -ldl -lm || exit 1
cp tests/daemon/jclient.py tests/daemon/daemontest.py tests/cli/clitest.py "$W/"
chmod -R a+rX "$W"
getent group joules >/dev/null || groupadd --system joules
getent passwd joules >/dev/null ||
	useradd --system --gid joules --no-create-home --shell /usr/sbin/nologin joules
G=$(getent group joules | cut -d: -f3)
# A Python that nobody can run (not one under /root).
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

echo "== $(date -u +%FT%TZ) $(uname -r); nvidia-smi -L:"; nvidia-smi -L
"$W/joulesd" --foreground --socket "$W/run/joules.sock" --public --verbose 2>"$OUT/joulesd.log" &
D=$!
for _ in $(seq 100); do grep -q serving "$OUT/joulesd.log" && break; sleep 0.1; done
cat "$OUT/joulesd.log"
echo "== the daemon after the drop"
grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/$D/status
ls -l "$W/run"

export JOULES_SOCKET=$W/run/joules.sock JOULES_LIB=$W/libjoules.so.0
MEMBER="setpriv --reuid=nobody --regid=nogroup --groups=$G"
echo "== nobody in the group: through the daemon, then direct, a 1 s region each"
for policy in daemon direct; do
	printf 'open %s\nread\nsettle\nkeep a\n' "$policy" > "$W/cmds"
	printf 'read\nsettle\nkeep b\ndelta a b\nquit\n' > "$W/cmds2"
	{ cat "$W/cmds"; sleep 1; cat "$W/cmds2"; } | $MEMBER $PY "$W/jclient.py" |
		python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin]
o = lines[0]
if not o.get("ok"):
    print("open failed:", o); sys.exit(0)
a, b, d = lines[2]["readings"], lines[5]["readings"], lines[7]
for i, sid in enumerate(o["ids"]):
    via = o["via"][i]
    print(f"  {sys.argv[1]:6} {sid:34} via {via:6} status {b[i][4]:3} "
          f"energy {b[i][0]/1e6:14.3f} J  1 s region: delta status {d[i][0]} {d[i][1]/1e6:9.3f} J  "
          f"uncertainty {b[i][2]} uJ")
' "$policy"
done
echo "== nobody outside the group: the public socket"
JOULES_CLI=- FAKESYS=- JOULESD=- setpriv --reuid=nobody --regid=nogroup --clear-groups $PY -c '
import sys; sys.path.insert(0, sys.argv[2]); import daemontest as t
s = t.connect(sys.argv[1]); print(" ", t.hello(s)); print(" ", t.sensors(s)); print(" ", t.snapshot(s))
' "$W/run/joules-public.sock" "$W"
echo "== full socket as an outsider"
setpriv --reuid=nobody --regid=nogroup --clear-groups $PY -c '
import socket, sys
try:
    socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET).connect(sys.argv[1]); print("  connected!")
except OSError as e:
    print("  refused:", e)
' "$JOULES_SOCKET"
kill -TERM $D; wait $D; echo "joulesd exit status $?"; ls "$W/run"
tail -3 "$OUT/joulesd.log"
