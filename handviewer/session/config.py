"""Where per-user files live.

Settings and the recent files: ``$HANDVIEWER_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/handviewer``,
else ``~/.config/handviewer``. Data the user made (session files of videos that ship with
handviewer): ``$HANDVIEWER_DATA_DIR``, else ``$XDG_DATA_HOME/handviewer``, else
``~/.local/share/handviewer``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

CONFIG_ENV = "HANDVIEWER_CONFIG_DIR"
DATA_ENV = "HANDVIEWER_DATA_DIR"


def config_dir() -> Path:
    """The per-user configuration folder (not created)."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "handviewer"


def data_dir() -> Path:
    """The per-user data folder (not created)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "handviewer"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same folder and `os.replace`,
    so readers see the old file or the new one, never a partial one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not exc.filename:  # e.g. "No space left on device" from write/fsync
            raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}", str(path)) from exc
        raise
    return path


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_bytes(path, json.dumps(obj, indent=1, allow_nan=False).encode("utf-8"))
