"""The hand model: skeleton, forward kinematics, watertight mesh and inverse kinematics.

`handviewer.hand.skeleton` is numpy-only; everything else loads torch, lazily, on first use.
"""

from __future__ import annotations

from handviewer._lazy import lazy_getattr

_LAZY = {
    "HandModel": "handviewer.hand.model",
    "HandParams": "handviewer.hand.params",
    "PairParams": "handviewer.hand.pair",
    "random_params": "handviewer.hand.params",
    "default_params": "handviewer.hand.params",
    "clamp_angles": "handviewer.hand.params",
    "forward_kinematics": "handviewer.hand.kinematics",
    "fit_ik": "handviewer.hand.ik",
    "ANGLE_NAMES": "handviewer.hand.template",
    "ANGLE_LIMITS": "handviewer.hand.template",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
