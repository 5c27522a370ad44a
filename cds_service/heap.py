"""Memory handed back to the OS after a hook call that held large buffers.

A call cut at a byte limit (a 50 MB body, a gzip bomb, a response declaring 26 MB) or
carrying megabytes leaves its socket reads and chunks behind in two ways, both measured
with ``bench.soak`` (50 MB chunked bodies, one call at a time, 15 s idle afterwards):

* Reference cycles: the failed searches' exceptions hold their tracebacks, whose frames
  hold the buffers, until the cyclic collector runs; with the raised GC threshold
  (``app.py``, after ``gc.freeze``) that can be thousands of calls later.
* Freed heap that stays resident: the buffers are blocks under glibc's mmap threshold,
  in the main heap, and glibc returns only its top. ``malloc_trim(0)`` releases free pages
  anywhere in the heap (``malloc_trim(3)``).

Without this module the worker kept +49 MiB after the load stopped (the same load run
in-process, glibc's ``mallinfo2``: 25 MiB in use before and after, 47 MiB free but
resident); with it, +0 MiB after 5 s.

So after such a call has finished, one ``gc.collect()`` and one ``malloc_trim(0)`` run,
``RELEASE_DELAY_S`` later on the event loop (the call's frames, its cancelled searches and
the error answer are gone by then; several large calls finishing together share one).
Only a call that held at least ``TRIM_AFTER_BYTES`` (request body plus responses) or had a
response refused for its size triggers it, never an ordinary call. Without glibc only the
collection runs.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Callable

# A typical call holds 50-250 KB; 1 MiB is far above that and far below what amplifies.
TRIM_AFTER_BYTES = 1024 * 1024
RELEASE_DELAY_S = 0.2


def libc() -> ctypes.CDLL | None:
    """The C library on Linux (its allocator is tuned here and in ``cli``), else ``None``."""
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def _load_trim() -> Callable[[int], int] | None:
    # Not glibc (musl has no malloc_trim): None.
    trim = getattr(libc(), "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_trim = _load_trim()
_scheduled = False


def release_after_call(held_bytes: int, over_limit: bool = False) -> bool:
    """Schedule one collection and ``malloc_trim`` when a call held at least
    ``TRIM_AFTER_BYTES``, or had a response refused for its size (part of it may have been
    buffered before that is known).

    Returns whether one was scheduled (several large calls finishing together share one).
    """
    global _scheduled
    if _scheduled or (held_bytes < TRIM_AFTER_BYTES and not over_limit):
        return False
    _scheduled = True
    asyncio.get_running_loop().call_later(RELEASE_DELAY_S, _release)
    return True


def _release() -> None:
    global _scheduled
    _scheduled = False
    gc.collect()
    if _trim is not None:
        _trim(0)
