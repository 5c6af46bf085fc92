"""The uplift's training views look like a 2D detector's output: hidden joints uncertain or missing."""

from pathlib import Path

import numpy as np
import pytest
import torch

from handviewer.hand import HandModel
from handviewer.uplift.synthetic import make_pool, occluded_joints, view

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "sample" / "ground_truth.npz"


def test_capsule_occlusion_agrees_with_the_rendered_sample():
    """The sample clip's visibility comes from rendering the meshes (depth buffer); the training views'
    capsule test must find nearly the same hidden joints (measured 95.6 % agreement)."""
    if not SAMPLE.exists():
        pytest.skip("no bundled sample")
    gt = np.load(SAMPLE)
    joints = torch.as_tensor(gt["joints"], dtype=torch.float32)
    K = torch.as_tensor(gt["camera_K"], dtype=torch.float32).expand(len(joints), 3, 3)
    hidden = occluded_joints(joints, K).numpy()
    rendered_hidden = ~gt["visible"]
    assert rendered_hidden.mean() > 0.15  # stacked hands: many joints hidden
    assert (hidden == rendered_hidden).mean() > 0.9
    assert (hidden & rendered_hidden).sum() / rendered_hidden.sum() > 0.85


def test_a_hand_behind_another_is_hidden_and_the_front_one_is_not():
    model = HandModel()
    front = model.joints(model.default_params(1))[0] + torch.tensor([0.0, 0.0, 400.0])
    front = front - torch.tensor([front[:, 0].mean(), front[:, 1].mean(), 0.0])  # centred on the optical axis
    behind = front + torch.tensor([0.0, 0.0, 60.0])  # the same hand 60 mm further away
    pair = torch.stack([front, behind])[None]
    K = torch.tensor([[[800.0, 0.0, 320.0], [0.0, 800.0, 240.0], [0.0, 0.0, 1.0]]])
    hidden = occluded_joints(pair, K)[0]
    assert not hidden[0].any()
    assert hidden[1].float().mean() > 0.8


def test_views_make_hidden_joints_uncertain_or_missing():
    """Like 2D detectors, views report hidden joints as uncertain or missing far more often than
    visible ones (how often varies per view: some detectors report every joint alike)."""
    pool = make_pool(256, seed=3)
    kp, K, joints = view(pool, torch.arange(256), torch.Generator().manual_seed(0))
    hidden = occluded_joints(joints, K)
    assert 0.05 < hidden.float().mean() < 0.6
    conf = kp[..., 2]
    doubtful = torch.isnan(conf) | (conf <= 0.5)
    assert doubtful[hidden].float().mean() > 0.5
    assert doubtful[~hidden].float().mean() < 0.15
    again, _, _ = view(pool, torch.arange(256), torch.Generator().manual_seed(0))
    assert torch.equal(torch.isnan(kp), torch.isnan(again)) and torch.allclose(kp.nan_to_num(), again.nan_to_num())


def test_views_without_occlusion_noise_or_drops_are_exact_projections():
    pool = make_pool(32, seed=4)
    kp, K, joints = view(pool, torch.arange(32), torch.Generator().manual_seed(1), noise_px=0.0, drop=0.0, occlusion=False)
    uv = joints[..., :2] / joints[..., 2:3] * K[:, 0, 0][:, None, None, None] + K[:, :2, 2][:, None, None]
    assert torch.isfinite(kp).all() and torch.allclose(kp[..., :2], uv, atol=1e-3)
    assert (kp[..., 2] >= 0.6).all()
