"""Where generated data (training sets, never committed) is cached: $HANDVIEWER_CACHE or ~/.cache/handviewer."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    root = Path(os.environ.get("HANDVIEWER_CACHE") or Path.home() / ".cache" / "handviewer")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_save_torch(obj, path: Path) -> None:
    """torch.save through `io._files.atomic_write` (folder made if missing): never a half-written checkpoint."""
    import torch

    from handviewer.io._files import atomic_write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, binary=True) as f:
        torch.save(obj, f)


def load_torch_blob(path: Path, fmt: str, what: str, device=None) -> dict:
    """The dict that `atomic_save_torch` wrote with {"format": fmt, ...} (tensors only, no pickled
    code). ValueError naming `what` ("occupancy weights") for anything else: a foreign torch file,
    a text file, a truncated download."""
    import pickle

    import torch

    try:
        blob = torch.load(Path(path), map_location=device or "cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as exc:
        raise ValueError(f"{path} is not a handviewer {what} file ({type(exc).__name__})") from exc
    if not isinstance(blob, dict) or blob.get("format") != fmt:
        raise ValueError(f"{path} is not a handviewer {what} file")
    return blob
