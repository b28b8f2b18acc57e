# SPDX-License-Identifier: MIT
"""Print where pure-Python modules go for install prefix argv[1], as the
Python running this script sees it: Debian's python3 searches
/usr/local/lib/python3.X/dist-packages (its 'posix_local' scheme) for
the /usr/local prefix, which meson's own guess (lib/python3/dist-packages)
is not; other prefixes get the standard lib/python3.X/site-packages."""
import sys
import sysconfig

prefix = sys.argv[1].rstrip("/") or "/"
if prefix == "/usr/local" and "posix_local" in sysconfig.get_scheme_names():
    path = sysconfig.get_path("purelib", "posix_local")
else:
    path = sysconfig.get_path("purelib", "posix_prefix",
                              vars={"base": prefix, "platbase": prefix})
print(path)
