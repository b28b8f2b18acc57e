# SPDX-License-Identifier: MIT
# Sourced by the tools/device_*.sh scripts: the GPU machine has no Debian
# -dev packages joules builds against (json-c, libmicrohttpd). Their .debs,
# fetched here with `apt-get download libjson-c-dev libjson-c5
# libmicrohttpd-dev libmicrohttpd12` into .debs/ and carried along, are
# unpacked into a private prefix that the compiler, pkg-config and the
# loader are pointed at. Does nothing where pkg-config finds both.
if ! pkg-config --exists json-c libmicrohttpd 2>/dev/null && ls .debs/*.deb >/dev/null 2>&1; then
	DEBS_PREFIX=$PWD/.debs/root
	for d in .debs/*.deb; do dpkg -x "$d" "$DEBS_PREFIX"; done
	MA=$(gcc -print-multiarch)
	export PKG_CONFIG_PATH=$DEBS_PREFIX/usr/lib/$MA/pkgconfig
	export CPATH=$DEBS_PREFIX/usr/include
	export LIBRARY_PATH=$DEBS_PREFIX/usr/lib/$MA
	export LD_LIBRARY_PATH=$DEBS_PREFIX/usr/lib/$MA${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	# The .pc files name /usr as their prefix; point them at ours.
	sed -i "s|^prefix=.*|prefix=$DEBS_PREFIX/usr|" "$PKG_CONFIG_PATH"/*.pc
	# Link libmicrohttpd as -lmicrohttpd: its .pc file requires gnutls.pc.
	echo "from .debs: json-c $(pkg-config --modversion json-c), libmicrohttpd $(pkg-config --modversion libmicrohttpd)"
fi
