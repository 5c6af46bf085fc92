"""Small constant tensors of the hot paths (mirror vector, joint limits, bone index tables), made
once per device and dtype. Made from numpy or Python lists on every call, each would be a
host-to-device copy on a GPU, which waits for the GPU's queue: hundreds per refinement."""

from __future__ import annotations

import numpy as np
import torch

from handviewer.hand.skeleton import MIRROR_X


def flip_x(like: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """(3,) `skeleton.MIRROR_X` [-1, 1, 1] on `like`'s device, in `like`'s dtype (or `dtype`): mirrors
    points across x = 0 (left <-> right hand)."""
    return on_device("flip_x", MIRROR_X.copy, like.device, dtype or like.dtype)


def on_device(name: str, make, device: torch.device, dtype: torch.dtype | None = None) -> torch.Tensor:
    """The constant `name`, built by `make()` (an array-like) the first time it is asked for on
    `device` in `dtype` (None: as made). Callers must not modify it in place."""
    device = torch.device(device)
    key = (name, device, dtype)
    if key not in _MADE:
        value = make()
        value = torch.as_tensor(np.asarray(value) if not torch.is_tensor(value) else value)
        _MADE[key] = value.to(device=device, dtype=dtype or value.dtype)
    return _MADE[key]


_MADE: dict[tuple, torch.Tensor] = {}


def clear() -> None:
    """Forget every constant, so that the next use rebuilds it: for benchmarks that compare two
    versions of a table in one process (e.g. the joint limits)."""
    _MADE.clear()
