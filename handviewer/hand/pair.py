"""Both hands of N frames as one type: a right hand and a left hand, the left a mirrored right hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import torch

from handviewer.device_constants import flip_x
from handviewer.hand.kinematics import Pose, forward_kinematics
from handviewer.hand.mesh import MeshRig, pose_vertices
from handviewer.hand.model import topology
from handviewer.hand.params import HandParams
from handviewer.hand.rotations import axis_angle_to_matrix


@dataclass
class PairParams:
    """Both hands of N frames; the left hand is the mirrored right hand `left` (see HandParams)."""

    right: HandParams
    left: HandParams

    def _pose_both(self) -> Pose:
        """Forward kinematics of the right hands and the (unmirrored) left hands in one batched call:
        (2N, ...) Pose, rights first. One call instead of two halves the small torch ops per step."""
        both = HandParams(**{k: torch.cat([v, getattr(self.left, k)]) for k, v in self.right.tensors().items()})
        return forward_kinematics(both)

    def joints(self) -> torch.Tensor:
        """(N, 2, 21, 3) mm, camera frame."""
        j = self._pose_both().joints
        n = j.shape[0] // 2
        return torch.stack([j[:n], j[n:] * flip_x(j)], 1)

    def joints_and_vertices(self, select: Callable[[torch.Tensor], torch.Tensor] | None = None,
                            inset_mm: float = 0.0, face_centres: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """((N, 2, 21, 3), (N, 2, V, 3)) mm: joints and `plain`-mesh vertices, camera frame.
        inset_mm > 0: each vertex moved that far inwards along its normal (the surface of a hand whose
        flesh is pressed in by that much: what soft contact tolerates). face_centres: the faces'
        centres follow the vertices ((N, 2, V + F, 3)): the "surface" point set.

        select: a function of the posed joints (N, 2, 21, 3) mm -> (N,) bool, the frames whose
        vertices to pose (called without gradients); the others' are left 0. Posing vertices costs
        more than the joints, and most frames of a video need none (their hands are apart).
        """
        pose = self._pose_both()
        n, flip = pose.joints.shape[0] // 2, flip_x(pose.joints)
        joints = torch.stack([pose.joints[:n], pose.joints[n:] * flip], 1)
        rig = _plain_rig(self.right.angles.dtype, self.right.angles.device)

        def surface(v: torch.Tensor) -> torch.Tensor:
            if inset_mm > 0:
                v = v - inset_mm * vertex_normals(v, rig.faces)
            return torch.cat([v, v[:, rig.faces].mean(2)], 1) if face_centres else v

        if select is not None:
            with torch.no_grad():
                chosen = select(joints)
            rows = torch.nonzero(torch.cat([chosen, chosen]))[:, 0]
            some = surface(pose_vertices(Pose(**{f.name: getattr(pose, f.name)[rows] for f in fields(Pose)}), rig))
            v = pose.joints.new_zeros(2 * n, *some.shape[1:]).index_put((rows,), some)  # the others stay 0
        else:
            v = surface(pose_vertices(pose, rig))
        verts = torch.stack([v[:n], v[n:] * flip], 1)
        return joints, verts

    def detach(self) -> "PairParams":
        return PairParams(self.right.map(lambda t: t.detach().clone()), self.left.map(lambda t: t.detach().clone()))


@dataclass
class RigidPair:
    """Both hands of F frames posed once (forward kinematics and, optionally, the mesh surface), so
    that the same hands at other placements (each hand's rotation and translation changed, nothing
    else) follow by moving the posed points rigidly: what a line search over placements needs at the
    cost of a few 3x3 products per candidate instead of posing and skinning it.

    rot, trans : (F, 2, 3) the posed placements (rad axis-angle, mm), as in HandParams (the left hand's
                 are those of the mirrored right hand it is).
    joints     : (F, 2, 21, 3) mm, camera frame.
    points     : (F, 2, V, 3) mm, camera frame: `PairParams.joints_and_vertices`'s surface, or None.
    """

    rot: torch.Tensor
    trans: torch.Tensor
    joints: torch.Tensor
    points: torch.Tensor | None
    turned_back: torch.Tensor | None = None  # (F, 2, 3, 3): R(rot)^T, built once for `at`

    def __post_init__(self) -> None:
        if self.turned_back is None:
            self.turned_back = axis_angle_to_matrix(self.rot).transpose(-1, -2)

    @classmethod
    def pose(cls, pair: "PairParams", surface: bool, inset_mm: float = 0.0, face_centres: bool = False) -> "RigidPair":
        """Pose `pair` (no gradients); surface: with its mesh surface (`joints_and_vertices`'s
        inset_mm and face_centres)."""
        with torch.no_grad():
            if surface:
                joints, points = pair.joints_and_vertices(inset_mm=inset_mm, face_centres=face_centres)
            else:
                joints, points = pair.joints(), None
            rot = torch.stack([pair.right.rot, pair.left.rot], 1).detach()
            trans = torch.stack([pair.right.trans, pair.left.trans], 1).detach()
        return cls(rot, trans, joints, points)

    def rows(self, idx: torch.Tensor) -> "RigidPair":
        return RigidPair(self.rot[idx], self.trans[idx], self.joints[idx], None if self.points is None else self.points[idx],
                         self.turned_back[idx])

    def at(self, frame: torch.Tensor, rot: torch.Tensor, trans: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The hands of frames `frame` ((M,) long) placed at rot, trans ((M, 2, 3), differentiable) ->
        joints (M, 2, 21, 3) and points (M, 2, V, 3) (None if not posed), mm, camera frame: equal to
        posing those placements, up to float rounding.

        A hand's points are trans + R(rot) q in its own (unmirrored) frame, so moving it from
        (rot0, trans0) to (rot, trans) is p -> trans + R(rot) R(rot0)^T (p - trans0); the left hand
        is mirrored into that frame and back."""
        mirror = flip_x(self.trans)
        flip = torch.stack([torch.ones_like(mirror), mirror])  # (2, 3) per hand
        turn = axis_angle_to_matrix(rot) @ self.turned_back[frame]  # (M, 2, 3, 3)
        trans0 = self.trans[frame]

        def move(p: torch.Tensor) -> torch.Tensor:  # (M, 2, K, 3)
            q = p * flip[:, None] - trans0[:, :, None]
            return (q @ turn.transpose(-1, -2) + trans[:, :, None]) * flip[:, None]

        return move(self.joints[frame]), None if self.points is None else move(self.points[frame])


def vertex_normals(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """(N, V, 3) unit outward normals (area-weighted face normals) of right-hand meshes (N, V, 3) with
    counter-clockwise faces (F, 3) long; 0 for a vertex of no face or of degenerate faces only."""
    a, b, c = (vertices[:, faces[:, k]] for k in range(3))
    face_normals = torch.cross(b - a, c - a, dim=-1)  # (N, F, 3), length = twice the area
    normals = torch.zeros_like(vertices)
    for k in range(3):
        normals = normals.index_add(1, faces[:, k], face_normals)
    return normals / normals.norm(dim=-1, keepdim=True).clamp_min(1e-9)


def _plain_rig(dtype: torch.dtype, device) -> MeshRig:
    """The plain mesh's rig on `device` in `dtype`, built once per (dtype, device)."""
    key = (str(dtype), str(device))
    if key not in _RIGS:
        _RIGS[key] = MeshRig(topology("plain"), device=device, dtype=dtype)
    return _RIGS[key]


_RIGS: dict[tuple[str, str], MeshRig] = {}
