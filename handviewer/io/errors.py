"""Error types of `handviewer.io`.

Every error about a file names the file: ``str(err)`` starts with the path, and
``err.path`` holds it (a `pathlib.Path`, or None when no file is involved).
"""

from __future__ import annotations

from pathlib import Path


class HandIOError(ValueError):
    """A file that cannot be used: missing, unreadable, or with the wrong content.

    path    : the offending file or folder (Path), or None.
    message : the reason, without the path.
    """

    def __init__(self, path: str | Path | None, message: str):
        self.path = Path(path) if path is not None else None
        self.message = message
        super().__init__(f"{path}: {message}" if path is not None else message)

    def __reduce__(self):  # keep the two-argument constructor picklable (worker processes)
        return (type(self), (self.path, self.message))


class FrameSourceError(HandIOError):
    """A video, image or image folder that cannot be opened or decoded, or a frame index out of range."""


class FileFormatError(HandIOError):
    """A file that was read but does not hold what was expected (missing keys, wrong shapes or values)."""


class MissingDependencyError(ImportError):
    """An optional dependency or model file needed by the requested feature is not available.

    The message says how to install or where to get it; nothing is ever downloaded.
    """
