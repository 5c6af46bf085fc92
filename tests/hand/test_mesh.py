import numpy as np
import pytest
import torch
import trimesh

from handviewer.geometry import check_closed_manifold, mesh_volume
from handviewer.hand import HandModel
from handviewer.hand.skeleton import BONES


@pytest.mark.parametrize("detail, expected", [("plain", (300, 360)), ("refined", (680, 760))])
def test_vertex_counts_match_the_paper_scale(detail, expected):
    model = HandModel(detail)
    assert expected[0] <= model.num_vertices <= expected[1]
    assert model.faces.shape == (2 * model.num_vertices - 4, 3)  # closed genus-0 triangle mesh (Euler)


@pytest.mark.parametrize("ranges", ["typical", "anatomical"])
@pytest.mark.parametrize("detail", ["plain", "refined"])
def test_watertight_consistent_and_positive_volume_on_1000_random_poses(detail, ranges):
    """Over the synthetic hands' ranges and over everything IK and refinement may produce."""
    model = HandModel(detail)
    report = check_closed_manifold(model.faces)
    assert report["is_watertight"] and report["is_winding_consistent"] and report["euler_characteristic"] == 2
    params = model.random_params(1000, seed=123, ranges=ranges)
    verts = model.vertices(params).double()
    volumes = mesh_volume(verts, torch.as_tensor(model.faces))
    assert (volumes > 100e3).all(), volumes.min()  # > 100 cm^3: no inverted or collapsed hand
    for i in range(0, 1000, 50):  # trimesh's own checks on a sample
        mesh = trimesh.Trimesh(verts[i].numpy(), model.faces, process=False)
        assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0


def test_default_hand_volume_is_adult_sized():
    model = HandModel("refined")
    mesh = model.to_trimesh(model.default_params())
    assert 200e3 < mesh.volume < 450e3  # mm^3


def test_mesh_follows_bone_lengths():
    model = HandModel("plain", dtype=torch.float64)
    params = model.default_params()
    longer = model.default_params()
    longer.bones[0, 7] += 10.0  # index distal bone (DIP to tip)
    v0, v1 = model.vertices(params)[0], model.vertices(longer)[0]
    moved = (v1 - v0).norm(dim=-1)
    # The index fingertip moves by exactly 10 mm; the palm and the other fingers stay put.
    assert torch.isclose(moved[model.parts == 2].max(), torch.tensor(10.0, dtype=torch.float64), atol=1e-9)
    assert moved[model.parts != 2].max() < 1e-9


def test_joints_lie_inside_the_mesh():
    from handviewer.geometry import inside_mesh

    model = HandModel("plain")
    params = model.random_params(50, seed=5)
    joints, verts = model.forward(params)
    faces = torch.as_tensor(model.faces)
    # Bone midpoints (not tips, which sit on the surface) are inside the flesh.
    mids = 0.5 * (joints[:, BONES[:, 0]] + joints[:, BONES[:, 1]])
    inside = inside_mesh(mids, verts, faces)
    assert inside.float().mean() > 0.97


def test_left_hand_is_a_mirror_with_outward_normals(tmp_path):
    model = HandModel("plain")
    params = model.random_params(1, seed=9)
    right = model.to_trimesh(params)
    left = model.to_trimesh(params, left=True)
    assert np.allclose(left.vertices[:, 0], -right.vertices[:, 0])
    assert left.is_winding_consistent and left.volume > 0
    assert np.isclose(left.volume, right.volume)


@pytest.mark.parametrize("suffix", [".ply", ".obj"])
def test_export_round_trip(tmp_path, suffix):
    model = HandModel("refined")
    params = model.random_params(1, seed=4)
    path = model.export(tmp_path / f"hand{suffix}", params)
    loaded = trimesh.load(path, process=False, force="mesh")
    assert loaded.vertices.shape == (model.num_vertices, 3)
    assert np.allclose(loaded.vertices, model.vertices(params)[0].numpy(), atol=1e-3)
    with pytest.raises(ValueError, match="unsupported"):
        model.export(tmp_path / "hand.xyz", params)


def test_model_docstring_states_the_real_mesh_sizes():
    from handviewer.hand import HandModel
    from handviewer.hand import model as M

    for detail in ("plain", "refined"):
        m = HandModel(detail)
        assert f"{m.num_vertices} vertices, {len(m.faces)} faces" in " ".join(M.HandModel.__doc__.split())
