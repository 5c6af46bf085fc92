import numpy as np
import pytest
import torch

from handviewer.device_constants import flip_x
from handviewer.hand import HandModel
from handviewer.hand.rotations import axis_angle_to_matrix
from handviewer.occupancy import data as occ_data
from handviewer.occupancy.canonical import canonical_frame, to_canonical
from handviewer.occupancy.network import OccupancyConfig, OccupancyNetwork
from handviewer.occupancy.train import TrainConfig, load_weights, train
from handviewer.progress import drain

TINY = OccupancyConfig(hidden=16, blocks=1, feature=16, encoder_hidden=16, encoder_blocks=2)


def test_canonical_frame_undoes_position_rotation_and_size():
    model = HandModel(dtype=torch.float64)
    params = model.random_params(4, seed=1)
    joints = model.joints(params)
    pts = joints[:, :5] + 3.0
    rot = axis_angle_to_matrix(torch.tensor([0.4, -2.0, 1.0], dtype=torch.float64))
    moved_j, moved_p = 1.7 * joints @ rot.T + 40.0, 1.7 * pts @ rot.T + 40.0
    a_p, a_j = to_canonical(pts, joints)
    b_p, b_j = to_canonical(moved_p, moved_j)
    assert torch.allclose(a_p, b_p, atol=1e-9) and torch.allclose(a_j, b_j, atol=1e-9)
    _, r, _ = canonical_frame(joints)
    assert torch.allclose(r.transpose(-1, -2) @ r, torch.eye(3, dtype=torch.float64).expand(4, 3, 3), atol=1e-9)


def test_training_data_labels_agree_with_the_mesh():
    data = drain(occ_data.generate(4, seed=3, points_per_hand=1024))
    assert data.points.shape == (4, 1024, 3) and data.points.dtype == np.float16
    assert data.inside.dtype == bool and 0.05 < data.inside.mean() < 0.6
    # Points near the wrist-to-middle-MCP line (canonical y in (0.2, 0.8), x, z ~ 0) are inside the palm.
    p = data.points.astype(np.float32)
    core = (np.abs(p[..., 0]) < 0.05) & (np.abs(p[..., 2]) < 0.05) & (p[..., 1] > 0.2) & (p[..., 1] < 0.8)
    assert core.sum() > 0 and data.inside[core].all()
    far = np.linalg.norm(p - p.mean(axis=1, keepdims=True), axis=-1) > 3.0  # > 250 mm from the hand
    assert not data.inside[far].any()


def test_network_is_invariant_to_pose_of_the_whole_hand():
    net = OccupancyNetwork(TINY).eval()
    model = HandModel()
    joints = model.joints(model.random_params(2, seed=2))
    pts = joints.mean(1, keepdim=True) + 30 * torch.randn(2, 64, 3, generator=torch.Generator().manual_seed(0))
    rot = axis_angle_to_matrix(torch.tensor([1.0, 0.5, -0.3]))
    with torch.no_grad():
        a = net.probability(pts, joints)
        b = net.probability(pts @ rot.T + 100.0, joints @ rot.T + 100.0)
    assert torch.allclose(a, b, atol=1e-5)


def test_left_hand_probability_is_the_mirrored_right_hand():
    net = OccupancyNetwork(TINY).eval()
    model = HandModel()
    joints = model.joints(model.random_params(1, seed=4))
    pts = joints + 2.0
    flip = flip_x(pts)
    with torch.no_grad():
        assert torch.allclose(net.probability_left(pts * flip, joints * flip), net.probability(pts, joints), atol=1e-6)


def test_chunked_probability_matches_and_gradients_reach_joints():
    net = OccupancyNetwork(TINY).eval()
    model = HandModel()
    joints = model.joints(model.random_params(1, seed=5)).requires_grad_(True)
    pts = joints.detach().mean(1, keepdim=True) + 40 * torch.randn(1, 300, 3, generator=torch.Generator().manual_seed(1))
    whole = net.probability(pts, joints)
    chunked = net.probability(pts, joints, chunk=64)
    assert torch.allclose(whole, chunked, atol=1e-6)
    whole.sum().backward()
    assert joints.grad is not None and joints.grad.abs().sum() > 0


def test_near_only_matches_the_full_decoder_where_a_hand_can_be():
    """Skipping points beyond the hand's reach changes no probability that matters, nor the gradient."""
    from handviewer.occupancy import load_default
    from handviewer.occupancy.features import nearest_bone_distance
    from handviewer.occupancy.network import REACH_MM

    net = load_default()
    assert not any(p.requires_grad for p in net.parameters())  # frozen: gradients reach the joints only
    model = HandModel()
    params = model.random_params(3, seed=6)
    joints = model.joints(params)
    pts = joints.mean(1, keepdim=True) + 60 * torch.randn(3, 400, 3, generator=torch.Generator().manual_seed(2))
    j1, j2 = joints.clone().requires_grad_(True), joints.clone().requires_grad_(True)
    full = net.probability(pts, j1)
    near = net.probability(pts, j2, near_only=True)
    far = nearest_bone_distance(pts, joints) >= REACH_MM * 0.9  # some hands are smaller than the mean
    assert far.any() and (~far).any()
    assert torch.allclose(full[~far], near[~far], atol=1e-5)
    assert full[far].max() < 1e-3 and near[far].max() < 1e-3
    (full ** 2).sum().backward()
    (near ** 2).sum().backward()
    assert torch.allclose(j1.grad, j2.grad, atol=1e-4 * j1.grad.abs().max())
    flip = flip_x(pts)
    with torch.no_grad():
        assert torch.allclose(net.probability_left(pts * flip, joints * flip, near_only=True), near, atol=1e-6)
        nothing = net.probability(pts + 1000.0, joints, near_only=True)
    assert nothing.abs().max() == 0


def test_conditional_norm_in_eval_uses_the_running_statistics():
    """Folding the running statistics into each hand's scale and shift is the same batch norm."""
    from handviewer.occupancy.network import CBatchNorm

    torch.manual_seed(0)
    cbn = CBatchNorm(feature=8, size=5)
    for layer in (cbn.gamma, cbn.beta):
        torch.nn.init.normal_(layer.weight)
    cbn.bn.running_mean.normal_()
    cbn.bn.running_var.uniform_(0.5, 2.0)
    cbn.eval()
    x, c = torch.randn(3, 7, 5), torch.randn(3, 8)
    normalised = (x - cbn.bn.running_mean) / torch.sqrt(cbn.bn.running_var + cbn.bn.eps)
    expected = cbn.gamma(c)[:, None] * normalised + cbn.beta(c)[:, None]
    assert torch.allclose(cbn(x, c), expected, atol=1e-5)
    hand = torch.tensor([0, 0, 2, 1])  # four points given as a flat list, each with its hand
    points = x[hand, torch.arange(4)]
    assert torch.allclose(cbn(points, c, hand), expected[hand, torch.arange(4)], atol=1e-5)


def test_tiny_training_learns_resumes_and_is_reproducible(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDVIEWER_CACHE", str(tmp_path / "cache"))
    cfg = TrainConfig(hands=48, val_hands=8, steps=150, batch=8, points=256, lr=1e-2, seed=1, checkpoint_every=50, net=TINY)
    out, ckpt = tmp_path / "occ.pt", tmp_path / "occ.ckpt"
    net = drain(train(cfg, out, ckpt))
    assert out.exists() and ckpt.exists()
    loaded = load_weights(out)
    assert loaded.meta["train_config"]["steps"] == 150
    # Better than always guessing "outside" on the validation hands.
    from handviewer.occupancy.train import validation_loss

    val = drain(occ_data.cached(8, 1 + 10_000))
    assert validation_loss(loaded, val, "cpu")["accuracy"] > 1 - val.inside.mean() + 0.02
    # Same seed, fresh run: identical weights. Resuming a finished run changes nothing.
    again = drain(train(cfg, tmp_path / "again.pt", None))
    for (k, a), b in zip(net.state_dict().items(), again.state_dict().values()):
        assert torch.allclose(a, b), k
    resumed = drain(train(cfg, tmp_path / "resumed.pt", ckpt))
    for a, b in zip(net.state_dict().values(), resumed.state_dict().values()):
        assert torch.allclose(a, b)
    with pytest.raises(ValueError, match="other settings"):
        drain(train(TrainConfig(**{**cfg.to_dict(), "net": TINY, "steps": 151}), out, ckpt))


def test_foreign_files_are_refused_with_a_clear_message(tmp_path):
    text = tmp_path / "weights.pt"
    text.write_text('{"not": "weights"}')
    other = tmp_path / "other.pt"
    torch.save({"format": "something-else"}, other)
    for path in (text, other):
        with pytest.raises(ValueError, match="is not a handviewer occupancy weights file"):
            load_weights(path)
