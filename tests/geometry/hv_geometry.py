"""Helpers of the geometry tests (a unique module name: every test folder has its own conftest)."""

import numpy as np
import torch
import trimesh


def as_torch(mesh: trimesh.Trimesh, dtype=torch.float64):
    return torch.tensor(np.asarray(mesh.vertices), dtype=dtype), torch.tensor(np.asarray(mesh.faces))


def box_sdf(p: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Analytic signed distance to an axis-aligned box centred at the origin (negative inside)."""
    q = np.abs(p) - half
    outside = np.linalg.norm(np.maximum(q, 0.0), axis=-1)
    inside = np.minimum(q.max(axis=-1), 0.0)
    return outside + inside
