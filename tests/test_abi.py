#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The library's ABI, checked three ways, as TAP.

The functions marked JOULES_API in the public headers, the names listed in
lib/libjoules.map and the dynamic symbols libjoules.so really exports must
be one and the same set: a function added to the header but not to the map
would be hidden (callers fail to link), one left in the map but gone from
the code would be a broken promise. Then the soname, and the pkg-config
file a user builds against: a tiny program compiled with its flags must
link and run.

Usage: test_abi.py --lib LIBJOULES_SO --map MAPFILE --build-root DIR
                   [--sanitize B_SANITIZE] --cc CC [ARGS...] -- HEADER...

$JOULES_TEST_WRAPPER (e.g. a valgrind command), when set, prefixes the
run of the tiny program.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

results = []


def check(name, ok, diag=""):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {name}")
    if not ok and diag:
        for line in diag.rstrip().splitlines():
            print(f"#   {line}")
    sys.stdout.flush()


def header_functions(paths):
    """Names of the functions declared `JOULES_API type name(...)`."""
    names = set()
    decl = re.compile(r"^JOULES_API\b[^;(]*?\b([A-Za-z_]\w*)\s*\(", re.M)
    for path in paths:
        with open(path, encoding="utf-8") as f:
            names.update(decl.findall(f.read()))
    return names


def map_symbols(path):
    """Names under `global:` in every version node of the linker map."""
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/|#[^\n]*", "", f.read(), flags=re.S)
    names, scope = set(), None
    for token in re.findall(r"[\w.*]+\s*:|[\w.*]+\s*;|[{}]", text):
        token = token.rstrip(";").strip()
        if token.endswith(":"):
            scope = token[:-1].strip()
        elif token in "{}":
            scope = None
        elif scope == "global":
            names.add(token)
    return names


def exported(lib):
    """Defined dynamic symbols of the library: {name: version}."""
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    symbols = {}
    for line in out.splitlines():
        fields = line.split()
        # Version nodes show up as absolute symbols; they are not functions.
        if len(fields) != 3 or fields[1] == "A":
            continue
        name, _, version = fields[2].partition("@")
        symbols[name] = version.lstrip("@")
    return symbols


def differ(a_name, a, b_name, b):
    lines = [f"in {a_name}, not in {b_name}: {n}" for n in sorted(a - b)]
    lines += [f"in {b_name}, not in {a_name}: {n}" for n in sorted(b - a)]
    return "\n".join(lines)


def soname(lib):
    out = subprocess.run(["readelf", "-d", lib], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", out)
    return m.group(1) if m else None


PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include <joules.h>

#define STR_(x) #x
#define STR(x) STR_(x)

int main(int argc, char **argv)
{
	const char *want = STR(JOULES_VERSION_MAJOR) "." STR(JOULES_VERSION_MINOR) "."
		STR(JOULES_VERSION_PATCH);
	if (strcmp(joules_version(), want) != 0) {
		printf("header says %s, library says %s\n", want, joules_version());
		return 1;
	}
	/* An empty root: no sensor, and that is not an error. */
	joules_ctx *ctx;
	int r = joules_open(&ctx, argc > 1 ? argv[1] : "/nonexistent");
	if (r < 0) {
		printf("joules_open: %s\n", joules_strerror(r));
		return 1;
	}
	size_t n = joules_sensor_count(ctx);
	joules_close(ctx);
	printf("joules %s, %zu sensors\n", want, n);
	return n == 0 ? 0 : 1;
}
"""


def pkg_config(build_root, *args):
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(build_root, "meson-uninstalled"))
    return subprocess.run(["pkg-config", *args, "joules-uninstalled"], env=env,
                          capture_output=True, text=True)


def check_pkg_config(args):
    flags = pkg_config(args.build_root, "--cflags", "--libs")
    check("pkg-config finds joules-uninstalled", flags.returncode == 0, flags.stderr)
    if flags.returncode != 0:
        return
    libdirs = pkg_config(args.build_root, "--libs-only-L").stdout.split()
    rpath = [f"-Wl,-rpath,{d[2:]}" for d in libdirs]
    # A sanitized library needs its runtime in the program too.
    sanitize = [] if args.sanitize in ("", "none") else [f"-fsanitize={args.sanitize}"]
    with tempfile.TemporaryDirectory(prefix="joules-abi-") as tmp:
        src, exe = os.path.join(tmp, "user.c"), os.path.join(tmp, "user")
        with open(src, "w", encoding="utf-8") as f:
            f.write(PROGRAM)
        cmd = [*args.cc, "-std=c11", *sanitize, src, "-o", exe,
               *shlex.split(flags.stdout), *rpath]
        built = subprocess.run(cmd, capture_output=True, text=True)
        check("a program built with its flags compiles and links", built.returncode == 0,
              " ".join(cmd) + "\n" + built.stderr)
        if built.returncode != 0:
            return
        wrapper = shlex.split(os.environ.get("JOULES_TEST_WRAPPER", ""))
        ran = subprocess.run([*wrapper, exe, tmp], capture_output=True, text=True)
        check("that program runs against the built library", ran.returncode == 0,
              ran.stdout + ran.stderr)


def main():
    argv = sys.argv[1:]
    headers = argv[argv.index("--") + 1:] if "--" in argv else []
    opts = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser()
    p.add_argument("--lib", required=True)
    p.add_argument("--map", required=True)
    p.add_argument("--build-root", required=True)
    p.add_argument("--sanitize", default="none")
    p.add_argument("--cc", nargs="+", required=True)
    args = p.parse_args(opts)

    api = header_functions(headers)
    mapped = map_symbols(args.map)
    symbols = exported(args.lib)
    check("the headers declare JOULES_API functions", len(api) > 0, "none found")
    check("the map lists exactly the JOULES_API functions", api == mapped,
          differ("headers", api, "map", mapped))
    check("the library exports exactly the JOULES_API functions", api == set(symbols),
          differ("headers", api, "libjoules.so", set(symbols)))
    unversioned = sorted(n for n, v in symbols.items() if not v.startswith("JOULES_"))
    check("every exported symbol carries a JOULES_ version", not unversioned,
          "unversioned: " + " ".join(unversioned))
    name = soname(args.lib)
    check("the soname is libjoules.so.0", name == "libjoules.so.0", f"soname: {name}")
    check_pkg_config(args)
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
