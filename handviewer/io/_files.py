"""Small file helpers shared by the readers and writers: atomic writes, JSON reading, natural sort."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from handviewer.io.errors import FileFormatError, HandIOError


@contextmanager
def atomic_write(path: str | Path, binary: bool = False) -> Iterator[IO]:
    """Open a temporary file beside `path` for writing; on success it replaces `path` in one step.

    The temporary file lives in the same folder (so `os.replace` is atomic) and is
    removed if the block raises: readers see the old file or the complete new one,
    never a half-written one. The new file gets the usual permissions (0666 & ~umask).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise HandIOError(path, f"cannot write: folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as e:
        raise HandIOError(path, f"cannot write: {e.strerror or e}") from e
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:  # a full disk, a lost mount: say which file
        tmp.unlink(missing_ok=True)
        raise HandIOError(path, f"cannot write: {e.strerror or e}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: str | Path, obj: Any, indent: int | None = None) -> None:
    """Write `obj` as strict JSON (NaN is not allowed: callers write null), atomically.

    indent : None writes compactly (data files); a number pretty-prints (small human-read files).
    """
    separators = (",", ":") if indent is None else None
    text = json.dumps(obj, indent=indent, separators=separators, allow_nan=False, default=_json_default)
    with atomic_write(path) as f:
        f.write(text + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write a {type(obj).__name__} to JSON: {obj!r}")


def read_json(path: str | Path) -> Any:
    """Parse a JSON file; a missing, unreadable or malformed file raises `HandIOError`/`FileFormatError`."""
    path = Path(path)
    if not path.is_file():
        raise HandIOError(path, "no such file" if not path.exists() else "not a file")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise HandIOError(path, f"cannot read: {e.strerror or e}") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FileFormatError(path, f"not valid JSON: {e}") from e


def nan_to_none(array: np.ndarray) -> list:
    """Nested lists of floats with NaN replaced by None (JSON null)."""
    obj = np.asarray(array, dtype=np.float64).astype(object)
    obj[np.isnan(array)] = None
    return obj.tolist()


def none_to_nan(data: Any, path: Path, what: str) -> np.ndarray:
    """Nested lists of numbers or None (null) to a float64 array with NaN; ragged lists raise."""
    try:
        return np.array(data, dtype=np.float64)  # None becomes NaN
    except (TypeError, ValueError) as e:
        raise FileFormatError(path, f"{what}: expected a regular array of numbers, got {_describe(data)}") from e


def _describe(data: Any) -> str:
    text = repr(data)
    return text if len(text) < 60 else text[:57] + "..."


def natural_key(path: Path) -> tuple:
    """Sort key that orders 'frame2' before 'frame10'."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name))
