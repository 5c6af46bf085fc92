"""Posing the watertight hand mesh on the skeleton (torch, batched, differentiable)."""

from __future__ import annotations

import numpy as np
import torch

from handviewer.hand.kinematics import Pose
from handviewer.hand.mesh_topology import MeshTopology


class MeshRig:
    """Tensors of a `MeshTopology` on one device and dtype, cached by `HandModel`."""

    def __init__(self, topology: MeshTopology, device=None, dtype=torch.float32) -> None:
        rig = topology.rig
        t = lambda a, dt=dtype: torch.as_tensor(np.asarray(a), device=device, dtype=dt)  # noqa: E731
        self.anchor_weights = t(rig.anchor_weights)  # (V, 21)
        self.frame_index = t(rig.frame_index, torch.int64)  # (V,)
        self.offset = t(rig.offset)  # (V, 3) mm, mean hand
        self.miter_joint = t(np.maximum(rig.miter_joint, 0), torch.int64)  # (V,)
        self.has_miter = t(rig.miter_joint >= 0, torch.bool)  # (V,)


def pose_vertices(pose: Pose, rig: MeshRig) -> torch.Tensor:
    """(N, V, 3) mm: vertices of N posed hands.

    Each vertex is a blend of joints plus an offset in one frame; the offset grows with the hand's
    size, and on the outside of a bent joint by 1 / cos(flex / 2) so knuckles keep their thickness.
    """
    anchors = torch.einsum("vj,njc->nvc", rig.anchor_weights, pose.joints)  # (N, V, 3)
    frames = torch.cat([pose.joint_frames, pose.bone_frames], dim=1)[:, rig.frame_index]  # (N, V, 3, 3)
    offset = rig.offset[None] * pose.scale[:, None, None]  # (N, V, 3)
    flex = pose.joint_flex[:, rig.miter_joint]  # (N, V)
    outside = rig.has_miter[None] & (rig.offset[None, :, 2] * flex < 0)
    stretch = torch.where(outside, 1.0 / torch.cos(flex / 2).clamp_min(0.3), torch.ones_like(flex))
    offset = torch.cat([offset[..., :2], offset[..., 2:] * stretch[..., None]], dim=-1)
    return anchors + (frames @ offset[..., None])[..., 0]
