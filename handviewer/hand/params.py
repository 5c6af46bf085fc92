"""Pose and shape parameters of a batch of hands, and random sampling within the joint limits."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

from handviewer.device_constants import on_device
from handviewer.hand import template as T
from handviewer.hand.rotations import matrix_to_axis_angle


@dataclass
class HandParams:
    """Parameters of N right hands (a left hand is a mirrored right hand).

    rot    : (N, 3) axis * angle, rad: rotation of the hand frame (x radial, y distal, z palmar).
    trans  : (N, 3) mm: wrist position.
    bones  : (N, 20) mm: bone lengths; bone b ends at joint b + 1.
    angles : (N, 36) rad: joint angles, see `template.ANGLE_NAMES`.
    """

    rot: torch.Tensor
    trans: torch.Tensor
    bones: torch.Tensor
    angles: torch.Tensor

    def __post_init__(self) -> None:
        n = self.rot.shape[0]
        for name, width in (("rot", 3), ("trans", 3), ("bones", 20), ("angles", T.NUM_ANGLES)):
            value = getattr(self, name)
            if value.ndim != 2 or value.shape != (n, width):
                raise ValueError(f"HandParams.{name} must have shape ({n}, {width}), got {tuple(value.shape)}")

    def __len__(self) -> int:
        return self.rot.shape[0]

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def map(self, fn) -> "HandParams":
        """A new HandParams with `fn` applied to every tensor (e.g. `.map(lambda t: t.detach())`)."""
        return HandParams(**{k: fn(v) for k, v in self.tensors().items()})

    def to(self, device=None, dtype=None) -> "HandParams":
        return self.map(lambda t: t.to(device=device, dtype=dtype))

    def detach(self) -> "HandParams":
        return self.map(lambda t: t.detach())

    def __getitem__(self, index) -> "HandParams":
        return self.map(lambda t: t[index] if not isinstance(index, int) else t[index : index + 1])

    @staticmethod
    def cat(items: list["HandParams"]) -> "HandParams":
        return HandParams(**{k: torch.cat([p.tensors()[k] for p in items]) for k in items[0].tensors()})

    def numpy(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy() for k, v in self.tensors().items()}

    @staticmethod
    def from_numpy(arrays: dict[str, np.ndarray], device=None, dtype=torch.float32) -> "HandParams":
        """From `numpy()`'s arrays; angles saved before the twists existed (31 per hand) get zero twists."""
        values = {k: np.asarray(arrays[k]) for k in ("rot", "trans", "bones", "angles")}
        missing = T.NUM_ANGLES - values["angles"].shape[-1]
        if missing == T.TWIST_SLICE.stop - T.TWIST_SLICE.start:
            values["angles"] = np.concatenate([values["angles"], np.zeros((*values["angles"].shape[:-1], missing))], -1)
        return HandParams(**{k: torch.as_tensor(v, device=device, dtype=dtype) for k, v in values.items()})


def limits(device=None, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint limits (`template.ANGLE_LIMITS`, anatomical): (low (36,), high (36,)) rad."""
    lim = on_device("angle_limits", lambda: T.ANGLE_LIMITS, device if device is not None else "cpu", dtype)
    return lim[:, 0], lim[:, 1]  # shared: not to be modified in place


def clamp_angles(angles: torch.Tensor) -> torch.Tensor:
    """(..., 36) rad clamped to the joint limits."""
    low, high = limits(angles.device, angles.dtype)
    return torch.maximum(torch.minimum(angles, high), low)


def default_params(n: int = 1, device=None, dtype=torch.float32) -> HandParams:
    """The mean hand, fingers straight, at the origin, unrotated."""
    z = lambda k: torch.zeros(n, k, device=device, dtype=dtype)  # noqa: E731
    bones = torch.as_tensor(T.MEAN_BONE_LENGTHS, device=device, dtype=dtype).expand(n, -1).clone()
    return HandParams(rot=z(3), trans=z(3), bones=bones, angles=z(T.NUM_ANGLES))


# How each finger shares a common spread (index radial, pinky ulnar), as a fraction of its range.
_SPREAD_SHARE = np.array([1.0, 0.2, -0.5, -1.0])


def random_params(
    n: int,
    seed: int | None = None,
    device=None,
    dtype=torch.float32,
    rotate: bool = True,
    shape_std: float = 0.07,
    ranges: str = "typical",
) -> HandParams:
    """Random plausible hands within joint ranges: `ranges` "typical" (`template.TYPICAL_LIMITS`, the
    networks' training distribution; the default) or "anatomical" (`template.ANGLE_LIMITS`, the
    extremes a real hand reaches, e.g. to test the mesh over everything IK may produce).

    Flexion angles are uniform within their limits, except that DIP flexion follows PIP flexion
    (about 2/3 of it, as tendons couple them); finger abduction follows a common spread plus a
    little noise (independent spreads would cross fingers, which hands rarely do); the hand size
    varies by `shape_std` (relative) and each bone by 4 % on top. `rotate`: uniform random global
    rotation, else the identity. Translation is zero.
    """
    table = {"typical": T.TYPICAL_LIMITS, "anatomical": T.ANGLE_LIMITS}.get(ranges)
    if table is None:
        raise ValueError(f"ranges must be 'typical' or 'anatomical', got {ranges!r}")
    g = np.random.default_rng(seed)
    low, high = table[:, 0], table[:, 1]
    base = T.TWIST_SLICE.start  # the twists are drawn last, so that a seed gives the hands it always gave
    u = g.uniform(size=(n, base))
    angles = np.zeros((n, T.NUM_ANGLES))
    angles[:, :base] = low[:base] + u * (high[:base] - low[:base])
    angles[:, T.PALM_SLICE] *= 0.6
    # Finger abduction (MCP abd of index..pinky): a shared spread s in [-1, 1].
    spread = g.uniform(-1.0, 1.0, size=(n, 1))
    abd_idx = np.arange(16, 31, 4)
    half_range = np.where(spread * _SPREAD_SHARE > 0, high[abd_idx], -low[abd_idx])
    abd = spread * _SPREAD_SHARE * half_range + g.normal(0.0, np.deg2rad(3.0), size=(n, 4))
    angles[:, abd_idx] = np.clip(abd, low[abd_idx], high[abd_idx])
    pip_idx, dip_idx = np.arange(17, 31, 4), np.arange(18, 31, 4)
    dip = 0.67 * angles[:, pip_idx] + g.normal(0.0, np.deg2rad(10.0), size=(n, 4))
    angles[:, dip_idx] = np.clip(dip, low[dip_idx], high[dip_idx])

    scale = np.clip(1.0 + shape_std * g.standard_normal((n, 1)), 0.75, 1.3)
    per_bone = np.clip(1.0 + 0.04 * g.standard_normal((n, 20)), 0.9, 1.1)
    bones = T.MEAN_BONE_LENGTHS * scale * per_bone

    if rotate:
        q = g.standard_normal((n, 4))
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        rot = _quaternion_to_axis_angle_np(q)
    else:
        rot = np.zeros((n, 3))
    if ranges == "anatomical":
        angles[:, T.TWIST_SLICE] = g.uniform(low[T.TWIST_SLICE], high[T.TWIST_SLICE], size=(n, 5))
    t = lambda a: torch.as_tensor(a, device=device, dtype=dtype)  # noqa: E731
    return HandParams(rot=t(rot), trans=t(np.zeros((n, 3))), bones=t(bones), angles=t(angles))


def _quaternion_to_axis_angle_np(q: np.ndarray) -> np.ndarray:
    q = np.where(q[:, :1] < 0, -q, q)
    from handviewer.hand.rotations import quaternion_to_axis_angle

    return quaternion_to_axis_angle(torch.as_tensor(q, dtype=torch.float64)).numpy()


__all__ = ["HandParams", "limits", "clamp_angles", "default_params", "random_params", "matrix_to_axis_angle"]
