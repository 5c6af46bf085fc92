"""The recent files list, kept in ``<config_dir>/recent.json`` (see `config.config_dir`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from handviewer.session.config import atomic_write_json, config_dir


class RecentFiles:
    """Most recent first, without duplicates, at most `limit` entries."""

    def __init__(self, path: str | os.PathLike | None = None, limit: int = 10) -> None:
        self.path = Path(path) if path is not None else config_dir() / "recent.json"
        self.limit = limit

    def items(self) -> list[str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        files = data.get("files", []) if isinstance(data, dict) else []
        return [str(f) for f in files if isinstance(f, str)][: self.limit]

    def add(self, file: str | os.PathLike) -> list[str]:
        file = str(Path(file).expanduser().resolve())
        files = [file] + [f for f in self.items() if f != file]
        return self._write(files[: self.limit])

    def remove(self, file: str | os.PathLike) -> list[str]:
        file = str(Path(file).expanduser().resolve())
        return self._write([f for f in self.items() if f != file])

    def clear(self) -> None:
        self._write([])

    def _write(self, files: list[str]) -> list[str]:
        try:
            atomic_write_json(self.path, {"files": files})
        except OSError:
            pass  # a read-only config folder must not break opening a file
        return files
