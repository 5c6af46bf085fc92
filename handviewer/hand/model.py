"""`HandModel`: the public face of the hand package (skeleton + watertight mesh of one detail)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from handviewer.hand.kinematics import Pose, forward_kinematics
from handviewer.hand.mesh import MeshRig, pose_vertices
from handviewer.hand.mesh_topology import MeshTopology, build_topology
from handviewer.hand.params import HandParams, default_params, random_params
from handviewer.hand.skeleton import mirror_x


@lru_cache(maxsize=None)
def topology(detail: str) -> MeshTopology:
    """The (cached) triangulation and rig of one detail."""
    return build_topology(detail)


class HandModel:
    """A right hand of one mesh detail; left hands are mirrored right hands (x -> -x).

    detail: "plain" (344 vertices, 684 faces, for occupancy and intersection tests) or "refined" (730 vertices,
            1456 faces, display).
    All methods are batched over N hands and differentiable in the parameters.
    """

    def __init__(self, detail: str = "plain", device=None, dtype=torch.float32) -> None:
        self.detail = detail
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.dtype = dtype
        self.topology = topology(detail)
        self._rig = MeshRig(self.topology, self.device, dtype)

    @property
    def faces(self) -> np.ndarray:
        """(F, 3) int64 triangles of a right hand, counter-clockwise seen from outside."""
        return self.topology.faces

    @property
    def faces_left(self) -> np.ndarray:
        """(F, 3) triangles of a mirrored (left) hand: mirroring flips the winding, so it is reversed."""
        return self.topology.faces[:, ::-1].copy()

    @property
    def num_vertices(self) -> int:
        return self.topology.num_vertices

    @property
    def parts(self) -> np.ndarray:
        """(V,) int: 0 palm, 1 thumb, 2 index, 3 middle, 4 ring, 5 pinky."""
        return self.topology.part

    def random_params(self, n: int, seed: int | None = None, **kwargs) -> HandParams:
        return random_params(n, seed=seed, device=self.device, dtype=self.dtype, **kwargs)

    def default_params(self, n: int = 1) -> HandParams:
        return default_params(n, device=self.device, dtype=self.dtype)

    def pose(self, params: HandParams) -> Pose:
        return forward_kinematics(params.to(self.device, self.dtype))

    def joints(self, params: HandParams) -> torch.Tensor:
        """(N, 21, 3) mm."""
        return self.pose(params).joints

    def vertices(self, params: HandParams) -> torch.Tensor:
        """(N, V, 3) mm."""
        return pose_vertices(self.pose(params), self._rig)

    def forward(self, params: HandParams) -> tuple[torch.Tensor, torch.Tensor]:
        """(joints (N, 21, 3), vertices (N, V, 3)) mm, from one FK pass."""
        pose = self.pose(params)
        return pose.joints, pose_vertices(pose, self._rig)

    def to_trimesh(self, params: HandParams, index: int = 0, left: bool = False):
        """One posed hand as a `trimesh.Trimesh` (mirrored with outward normals when `left`)."""
        import trimesh

        verts = self.vertices(params[index])[0].detach().cpu().numpy().astype(np.float64)
        if left:
            verts = mirror_x(verts)
        return trimesh.Trimesh(verts, self.faces_left if left else self.faces, process=False)

    def export(self, path: str | Path, params: HandParams, index: int = 0, left: bool = False) -> Path:
        """Write one posed hand to PLY or OBJ (by the file suffix). Returns the path."""
        path = Path(path)
        if path.suffix.lower() not in (".ply", ".obj", ".stl", ".off"):
            raise ValueError(f"unsupported mesh format {path.suffix!r}: use .ply, .obj, .stl or .off")
        self.to_trimesh(params, index, left).export(path)
        return path
