# SPDX-License-Identifier: MIT
"""Loading libjoules and declaring the C functions used.

The library is `libjoules.so.0` found by the dynamic loader (installed by
`meson install` and registered by `ldconfig`), or the file named by
$JOULES_LIBRARY. It is loaded on first use, so `import joules` itself never
fails.
"""
import ctypes
import os
import threading
from ctypes import POINTER, c_char_p, c_int, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p
from typing import Optional

from . import _abi

SONAME = "libjoules.so.0"


class JoulesError(Exception):
    """A libjoules call failed.

    Attributes: `code` (a negative enum joules_error, e.g. -4), `name`
    (joules_strerror of it, "permission denied"), `message` (the library's
    own message: the file or call that failed, why, and what to do).
    """

    def __init__(self, message: str, code: int = 0, name: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.name = name


class LibraryNotFound(JoulesError, OSError):
    """libjoules could not be loaded; the message says how to fix that."""


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None


def _declare(lib: ctypes.CDLL) -> None:
    ctx = c_void_p
    S = _abi
    protos = {
        "joules_version": (c_char_p, []),
        "joules_strerror": (c_char_p, [c_int]),
        "joules_kind_name": (c_char_p, [c_int]),
        "joules_open_with": (c_int, [POINTER(ctx), POINTER(S.OpenOpts)]),
        "joules_close": (None, [ctx]),
        "joules_last_error": (c_char_p, [ctx]),
        "joules_sensor_count": (c_size_t, [ctx]),
        "joules_sensor": (POINTER(S.Sensor), [ctx, c_size_t]),
        "joules_sensor_error": (c_char_p, [ctx, c_size_t]),
        "joules_read": (c_int, [ctx, POINTER(S.Reading), c_size_t]),
        "joules_source_count": (c_size_t, [ctx]),
        "joules_source_name": (c_char_p, [ctx, c_size_t]),
        "joules_source_note": (c_char_p, [ctx, c_size_t]),
        "joules_gpu_count": (c_int, [ctx]),
        "joules_gpu_error": (c_char_p, [ctx]),
        "joules_gpu_info": (c_int, [ctx, c_size_t, POINTER(S.GpuInfo)]),
        "joules_total_of": (c_int, [ctx, POINTER(c_uint8), c_size_t]),
        "joules_region_begin": (c_int, [ctx, c_char_p, POINTER(c_int)]),
        "joules_region_pause": (c_int, [ctx, c_int]),
        "joules_region_resume": (c_int, [ctx, c_int]),
        "joules_region_end": (c_int, [ctx, c_int, c_uint32, POINTER(S.RegionResult),
                                      POINTER(S.RegionSensor), c_size_t]),
        "joules_region_finish": (c_int, [ctx, c_int, c_uint32, POINTER(S.RegionResult),
                                         POINTER(S.RegionSensor), c_size_t]),
        "joules_region_totals": (c_int, [ctx, POINTER(c_uint8), POINTER(S.RegionSensor),
                                         c_size_t, POINTER(S.RegionTotal)]),
        "joules_sampler_start": (c_int, [ctx, c_uint32, c_uint32]),
        "joules_sampler_stop": (None, [ctx]),
        "joules_sampler_interval": (c_uint32, [ctx]),
        "joules_sample": (c_int, [ctx]),
        "joules_trace": (c_int, [ctx, c_size_t, c_uint64, POINTER(S.TracePoint), c_size_t]),
        "joules_baseline_measure": (c_int, [ctx, c_uint32]),
        "joules_baseline_set": (c_int, [ctx, POINTER(S.Baseline), c_size_t]),
        "joules_baseline_get": (c_int, [ctx, POINTER(S.Baseline), c_size_t]),
    }
    for name, (restype, argtypes) in protos.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def _load() -> ctypes.CDLL:
    path = os.environ.get("JOULES_LIBRARY")
    target = path or SONAME
    try:
        lib = ctypes.CDLL(target)
    except OSError as e:
        if path:
            fix = ("JOULES_LIBRARY names a file that cannot be loaded: point it at a "
                   "built libjoules.so.0 (build/lib/libjoules.so.0), or unset it to use "
                   "the installed one")
        else:
            fix = ("install libjoules: from the joules source tree run `meson setup build "
                   "&& ninja -C build && meson install -C build && ldconfig` (as root), "
                   "or set JOULES_LIBRARY to a built build/lib/libjoules.so.0")
        raise LibraryNotFound(f"joules: cannot load {target} ({e}); {fix}",
                              name="library not found") from None
    try:
        _declare(lib)
    except AttributeError as e:
        raise LibraryNotFound(
            f"joules: {target} lacks a function these bindings need ({e}); it is older "
            f"than the bindings: install the libjoules of the same source tree",
            name="library too old") from None
    return lib


def lib() -> ctypes.CDLL:
    """The loaded library (loaded on the first call). Raises LibraryNotFound."""
    global _lib
    with _lock:
        if _lib is None:
            _lib = _load()
        return _lib


def strerror(code: int) -> str:
    return lib().joules_strerror(code).decode()


def fail(code: int, message: str) -> JoulesError:
    """The exception for a failed call: the library's message, or the
    generic text of the code when it gave none."""
    name = strerror(code)
    return JoulesError(message or f"joules: {name}", code, name)
