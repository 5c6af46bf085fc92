"""Work around a PySide6 bug that crashes the app after a few thousand Qt calls.

PySide6/shiboken6 6.12.0 (abi3 wheels) on Python < 3.12 return ``None`` from every
void C++ method without taking a reference to it. Each call drops ``None``'s reference count
by one; after a few thousand calls (``setPos``, ``setText``, ``moveTo``, ...) CPython aborts
with "Fatal Python error: none_dealloc". 6.11.x is not affected, and from Python 3.12 on
``None`` is immortal so the bug is harmless.

`protect_none_refcount` probes for the bug (100 calls of a void method) and, only where
it is present, raises ``None``'s reference count by 2**40 so it can never reach zero.
Pinning ``PySide6-Essentials!=6.12.0`` avoids the need.
"""

from __future__ import annotations

import ctypes
import sys

_BUMP = 1 << 40
_applied = False


def none_refcount_leaks() -> bool:
    """True when a void Qt method call leaks a reference to None (the PySide6 6.12.0 bug)."""
    if sys.version_info >= (3, 12):
        return False
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(100):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 50


def protect_none_refcount() -> bool:
    """Apply the workaround if needed (idempotent); returns whether it is in force."""
    global _applied
    if not _applied and none_refcount_leaks():
        ctypes.c_ssize_t.from_address(id(None)).value += _BUMP
        _applied = True
    return _applied
