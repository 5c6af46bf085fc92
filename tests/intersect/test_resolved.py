import math

import numpy as np
import torch

from handviewer.intersect.resolved import CONTACT_DEPTH_MM, CONTACT_VOLUME_CM3, is_intersecting, is_resolved


def test_soft_contact_is_not_an_intersection():
    assert not is_intersecting(0.0, 0.0)
    assert not is_intersecting(CONTACT_VOLUME_CM3 * 0.5, CONTACT_DEPTH_MM * 0.5)  # hands pressed together
    assert is_intersecting(CONTACT_VOLUME_CM3 * 2, CONTACT_DEPTH_MM * 0.5)  # too much flesh overlaps
    assert is_intersecting(CONTACT_VOLUME_CM3 * 0.5, CONTACT_DEPTH_MM * 2)  # a finger through the other hand
    assert not is_intersecting(math.nan, math.nan)  # a hand missing: nothing to intersect
    assert is_intersecting(0.05, 0.5, volume_tolerance_cm3=0.0)  # a stricter rule when asked


def test_resolved_means_intersecting_before_and_not_after():
    assert is_resolved(3.0, 8.0, 0.0, 0.0)
    assert is_resolved(3.0, 8.0, CONTACT_VOLUME_CM3 * 0.5, CONTACT_DEPTH_MM * 0.5)
    assert not is_resolved(3.0, 8.0, 1.0, 4.0)
    assert not is_resolved(0.0, 0.0, 0.0, 0.0)  # nothing to resolve


def test_inset_vertices_lie_inside_their_hand():
    """Soft contact tests each vertex `inset_mm` inside its own surface (outward normals)."""
    from handviewer.geometry import inside_mesh
    from handviewer.hand import HandModel
    from handviewer.hand.pair import PairParams

    model = HandModel("plain", dtype=torch.float64)
    pair = PairParams(model.random_params(2, seed=3), model.random_params(2, seed=4))
    _, verts = pair.joints_and_vertices()
    _, inset = pair.joints_and_vertices(inset_mm=1.5)
    assert np.allclose((verts - inset).norm(dim=-1).numpy(), 1.5, atol=1e-6)
    faces = (torch.as_tensor(model.faces), torch.as_tensor(model.faces_left))
    for f in range(2):
        for h in range(2):
            inside = inside_mesh(inset[f, h][None], verts[f, h][None], faces[h])
            assert float(inside.double().mean()) > 0.97
