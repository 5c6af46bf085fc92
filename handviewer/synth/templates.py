"""The six kinds of two-hand interaction: the left hand's pose relative to the right and the view.

All in the right hand's frame (x radial, y distal, z palmar; mm), see `scenes` for how they are used.
The left hand's frame is that of the mirrored hand (its thumb on -x); `rel` maps it to the right
hand's frame. `view` maps the right hand's frame to the camera frame (OpenCV), before placement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handviewer.synth import _geometry as G
from handviewer.synth.names import SCENE_KINDS

PALM_CENTRE = np.array([0.0, 45.0, 0.0])  # mm, right-hand frame
FINGER_CENTRE = np.array([0.0, 135.0, 0.0])  # mm, middle of the middle finger at rest

_SIDE_VIEW = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]).T  # palm -> +x, fingers up
_UPRIGHT_VIEW = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]]).T  # palm to camera
_TABLE_VIEW = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]).T  # palm down, fingers away
_TIPS_VIEW = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]]).T  # fingers -> +x, palm to camera


@dataclass(frozen=True)
class _Template:
    """One sampled interaction: relative pose, placement line, finger flexion ranges, camera view."""

    kind: str
    rel: np.ndarray  # (3, 3) left (mirrored) hand frame -> right hand frame
    wrist: np.ndarray  # (3,) mm, left wrist on the line (right hand frame)
    approach: np.ndarray  # (3,) unit, right hand frame: the left hand lies on this side
    flex_right: tuple[float, float]  # range of the scale applied to random finger angles
    flex_left: tuple[float, float]
    view: np.ndarray  # (3, 3) right hand frame -> camera frame, before placement


def _view(rng, base, yaw, pitch, roll, pitch0=0.0) -> np.ndarray:
    u = lambda r: rng.uniform(-r, r)  # noqa: E731
    return (G.axis_rotation("y", u(yaw)) @ G.axis_rotation("x", pitch0 + u(pitch))
            @ G.axis_rotation("z", u(roll)) @ base)


def _template(kind: str, rng: np.random.Generator) -> _Template:
    """Sample the relative pose and view of one interaction kind (see the module docstring)."""
    rx, ry, rz = (lambda deg, a=a: G.axis_rotation(a, deg) for a in "xyz")  # noqa: E731
    jitter = G.random_rotation(rng, 8.0)
    z = np.array([0.0, 0.0, 1.0])
    side = 1.0 if rng.uniform() < 0.5 else -1.0
    if kind in ("palms", "steeple", "clasp"):
        if kind == "palms":
            rel, flex = ry(180) @ jitter, ((0.0, 0.25), (0.0, 0.25))
        elif kind == "steeple":
            rel, flex = ry(180) @ rx(rng.uniform(15, 45)) @ jitter, ((0.05, 0.35), (0.05, 0.35))
        else:
            rel, flex = ry(180) @ rz(side * rng.uniform(40, 90)) @ jitter, ((0.35, 0.75), (0.35, 0.75))
        shift = np.array([rng.uniform(-10, 10), rng.uniform(-15, 15), 0.0])
        wrist = PALM_CENTRE + shift - rel @ PALM_CENTRE
        return _Template(kind, rel, wrist, z, *flex, _view(rng, _SIDE_VIEW, 55, 20, 25))
    if kind == "stacked":
        rel = rz(rng.uniform(-50, 50)) @ jitter
        shift = np.array([rng.uniform(-15, 15), rng.uniform(-10, 25), 0.0])
        wrist = PALM_CENTRE + shift - rel @ PALM_CENTRE
        return _Template(kind, rel, wrist, side * z, (0.0, 0.4), (0.1, 0.6),
                         _view(rng, _TABLE_VIEW, 40, 15, 20, pitch0=55))
    if kind == "cross":
        rel = rz(side * rng.uniform(25, 70)) @ jitter
        shift = np.array([rng.uniform(-10, 10), rng.uniform(-10, 10), 0.0])
        wrist = FINGER_CENTRE + shift - rel @ FINGER_CENTRE
        return _Template(kind, rel, wrist, (1.0 if rng.uniform() < 0.5 else -1.0) * z, (0.0, 0.25), (0.0, 0.25),
                         _view(rng, _UPRIGHT_VIEW, 35, 25, 30))
    if kind == "tips":
        rel = rz(180) @ jitter
        wrist = np.array([rng.uniform(-15, 15), 0.0, rng.uniform(-8, 8)])
        view = (G.axis_rotation("y", rng.uniform(-25, 25)) @ G.axis_rotation("z", rng.uniform(-20, 20))
                @ G.axis_rotation("x", rng.uniform(-60, 60)) @ _TIPS_VIEW)
        return _Template(kind, rel, wrist, np.array([0.0, 1.0, 0.0]), (0.0, 0.3), (0.0, 0.3), view)
    raise ValueError(f"unknown scene kind {kind!r}; expected one of {SCENE_KINDS}")
