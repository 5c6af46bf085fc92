from pathlib import Path

import numpy as np
import pytest
import torch

from handviewer.hand import HandModel, HandParams, clamp_angles, fit_ik
from handviewer.hand import template as T
from handviewer.hand.skeleton import mirror_x


def test_reachable_targets_are_fitted_below_a_tenth_of_a_millimetre():
    model = HandModel()
    truth = model.random_params(1000, seed=21)
    params, residual = fit_ik(model.joints(truth))
    assert residual.mean() < 0.1
    assert torch.allclose(params.bones, truth.bones, atol=1e-2)
    assert torch.equal(clamp_angles(params.angles), params.angles)


@pytest.mark.parametrize("lm_max_batch", [256, 0], ids=["levenberg-marquardt", "adam"])
def test_noisy_targets_fit_about_as_well_as_the_noise_allows(lm_max_batch, monkeypatch):
    import handviewer.hand.ik as ik

    monkeypatch.setattr(ik, "LM_MAX_BATCH", lm_max_batch)  # both polishers, whatever the batch
    model = HandModel()
    truth = model.random_params(200, seed=22)
    clean = model.joints(truth)
    noisy = clean + 2.0 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    params, residual = fit_ik(noisy)
    fitted = model.joints(params)
    noise = (noisy - clean).norm(dim=-1).mean()
    assert residual.mean() < noise  # fits the targets better than the noise level...
    assert (fitted - clean).norm(dim=-1).mean() < 1.05 * noise  # ...without drifting from the truth


def test_gradient_stage_never_makes_a_fit_worse():
    model = HandModel()
    noisy = model.joints(model.random_params(50, seed=3)) + 3.0 * torch.randn(50, 21, 3, generator=torch.Generator().manual_seed(1))
    _, analytic = fit_ik(noisy, iterations=0)
    _, refined = fit_ik(noisy, iterations=40)
    assert ((refined.square().mean(-1)) <= analytic.square().mean(-1) + 1e-4).all()


def test_out_of_limit_targets_are_clamped_not_twisted():
    model = HandModel(dtype=torch.float64)
    truth = model.default_params(1)
    pip = T.ANGLE_NAMES.index("index_pip_flex")
    truth.angles[0, pip] = -0.8  # 46 degrees of hyperextension, the limit is 5
    target = model.joints(truth)
    low = T.ANGLE_LIMITS[pip, 0]
    others = [j for j in range(21) if j not in (7, 8)]
    # Analytic stage: the PIP stops at its limit; only the index DIP and tip miss, the rest is exact.
    params, residual = fit_ik(target, iterations=0, dtype=torch.float64)
    assert params.angles[0, pip].item() == pytest.approx(low, abs=1e-6)
    assert residual[0, others].max() < 1e-6 and residual[0, 8] > 5
    # Gradient stage: least squares spreads the miss a little, but stays within the limits and keeps
    # the index untwisted (its abduction stays near the truth's zero).
    params, residual = fit_ik(target, dtype=torch.float64)
    assert params.angles[0, pip].item() >= low - 1e-9
    assert abs(params.angles[0, T.ANGLE_NAMES.index("index_mcp_abd")].item()) < np.deg2rad(5)
    assert residual[0, others].mean() < 2.0


def test_missing_joints_and_fixed_bones():
    model = HandModel()
    truth = model.random_params(20, seed=8)
    target = model.joints(truth).clone()
    target[:, [3, 4, 11, 12]] = float("nan")  # thumb IP and tip, middle DIP and tip
    params, residual = fit_ik(target, bones=truth.bones)
    assert torch.isnan(residual[:, [3, 4, 11, 12]]).all()
    visible = residual[:, [j for j in range(21) if j not in (3, 4, 11, 12)]]
    assert visible.mean() < 0.1
    assert torch.equal(params.bones, truth.bones)


def test_missing_wrist_is_recovered_from_the_rest():
    model = HandModel()
    truth = model.random_params(10, seed=9)
    truth.trans[:] = torch.tensor([30.0, -20.0, 500.0])
    target = model.joints(truth).clone()
    target[:, 0] = float("nan")
    params, residual = fit_ik(target, iterations=100)
    assert (params.trans - truth.trans).norm(dim=-1).mean() < 5.0


def test_left_hands_fit_through_the_mirror():
    model = HandModel()
    truth = model.random_params(5, seed=2)
    left = mirror_x(model.joints(truth).numpy())
    params, residual = fit_ik(mirror_x(left))
    assert residual.mean() < 0.1


def test_fitting_works_under_no_grad():
    model = HandModel()
    noisy = model.joints(model.random_params(4, seed=5)) + 2.0
    noisy[:, 8] += 5.0  # not reachable exactly, so the gradient stage runs
    with torch.no_grad():
        _, residual = fit_ik(noisy, iterations=10)
    assert torch.isfinite(residual).all()


def test_bad_input_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\(N, 21, 3\)"):
        fit_ik(np.zeros((4, 20, 3)))


def test_the_polish_never_fits_worse_than_the_analytic_stage_even_with_a_zero_length_bone():
    model = HandModel()
    targets = model.joints(model.random_params(4, seed=3)).clone()
    targets[:, 4] = targets[:, 3]  # thumb tip on its IP joint: a bone of length 0, below the 1 mm floor
    _, analytic = fit_ik(targets, iterations=0)
    _, polished = fit_ik(targets)
    assert (polished.mean(-1) <= analytic.mean(-1) + 1e-5).all()


def test_absurd_joints_or_bones_are_refused_with_a_clear_error():
    import pytest

    from handviewer.hand import HandModel, fit_ik

    model = HandModel("plain")
    joints = model.joints(model.random_params(2, seed=0))
    with pytest.raises(ValueError, match="within 1e\\+09"):
        fit_ik(joints * 1e30)
    with pytest.raises(ValueError, match="bones must be finite"):
        fit_ik(joints, bones=torch.full((20,), float("nan")))


def test_anatomical_poses_are_fitted_below_a_tenth_of_a_millimetre():
    """Synthetic hands over the whole anatomical range (twists included) are reachable: exactly by
    Levenberg-Marquardt (small batches, the app); the Adam polish of large batches gets within
    0.5 mm (the palm's per-person deviations trade against the hand's rotation)."""
    model = HandModel()
    truth = model.random_params(16 + 300, seed=22, ranges="anatomical")
    _, small = fit_ik(model.joints(truth[:16]))
    assert small.mean() < 0.1
    _, large = fit_ik(model.joints(truth[16:]))
    assert large.mean() < 0.5


INTERHAND = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "interhand26m_mmpose_samples"


@pytest.mark.skipif(not INTERHAND.exists(), reason="no ../shared/data/interhand26m_mmpose_samples")
def test_real_interhand_hands_are_fitted_below_half_a_millimetre():
    """Real captured hands (InterHand2.6M ground truth): the model follows them, within its limits."""
    from handviewer.io import load_interhand

    samples = load_interhand(*[INTERHAND / f"test_interhand2.6m_{k}.json" for k in ("data", "camera", "joint_3d")])
    joints = samples.joints.joints  # (T, 2, 21, 3) mm
    hands = [joints[t, 0] for t in range(len(joints)) if np.isfinite(joints[t, 0]).all()]
    hands += [mirror_x(joints[t, 1]) for t in range(len(joints)) if np.isfinite(joints[t, 1]).all()]
    assert len(hands) >= 4
    params, residual = fit_ik(np.stack(hands))
    assert float(residual.mean()) < 0.5
    assert float(residual.max()) < 2.0
    assert torch.equal(clamp_angles(params.angles), params.angles)
