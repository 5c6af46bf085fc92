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
        blended = np.flatnonzero(rig.blend > 0)
        self.blended = t(blended, torch.int64)  # (B,) vertices with a second rule
        self.blend = t(rig.blend[blended])  # (B,)
        self.anchor_weights2 = t(rig.anchor_weights2[blended])  # (B, 21)
        self.frame_index2 = t(rig.frame_index2[blended], torch.int64)  # (B,)
        self.offset2 = t(rig.offset2[blended])  # (B, 3)
        self.faces = t(topology.faces, torch.int64)  # (F, 3), counter-clockwise from outside (right hand)


def pose_vertices(pose: Pose, rig: MeshRig) -> torch.Tensor:
    """(N, V, 3) mm: vertices of N posed hands.

    Each vertex is a blend of joints plus an offset in one frame; the offset grows with the hand's
    size, and on the outside of a bent joint by 1 / cos(flex / 2) so knuckles keep their thickness.
    """
    table = torch.cat([pose.joint_frames, pose.bone_frames], dim=1)  # (N, 42, 3, 3)
    anchors = torch.einsum("vj,njc->nvc", rig.anchor_weights, pose.joints)  # (N, V, 3)
    offset = rig.offset[None] * pose.scale[:, None, None]  # (N, V, 3)
    flex = pose.joint_flex[:, rig.miter_joint]  # (N, V)
    outside = rig.has_miter[None] & (rig.offset[None, :, 2] * flex < 0)
    stretch = torch.where(outside, 1.0 / torch.cos(flex / 2).clamp_min(0.3), torch.ones_like(flex))
    offset = torch.cat([offset[..., :2], offset[..., 2:] * stretch[..., None]], dim=-1)
    verts = anchors + (table[:, rig.frame_index] @ offset[..., None])[..., 0]
    # Second rule: rigid with a finger's first bone, blended in at the finger bases.
    anchors2 = torch.einsum("bj,njc->nbc", rig.anchor_weights2, pose.joints)  # (N, B, 3)
    offset2 = rig.offset2[None] * pose.scale[:, None, None]
    second = anchors2 + (table[:, rig.frame_index2] @ offset2[..., None])[..., 0]
    w = rig.blend[None, :, None]
    return verts.index_copy(1, rig.blended, (1 - w) * verts[:, rig.blended] + w * second)
