import numpy as np
import torch

from handviewer.hand import HandModel
from handviewer.intersect import count_intersections
from handviewer.pipeline import Pipeline
from handviewer.pipeline_api import RefineSettings

from hv_pairs import intersecting_pairs


def gt_volume(pipe: Pipeline, joints: np.ndarray) -> float:
    """Ground-truth intersection volume of one frame after IK (plain meshes)."""
    init = pipe.initial_from_joints(joints[None])
    plain = HandModel("plain")
    vr = plain.vertices(init.pair.right)[0].double().numpy()
    vl = plain.vertices(init.pair.left)[0].double().numpy() * np.array([-1.0, 1, 1])
    return count_intersections(vr, plain.faces, vl, plain.faces_left)[1]


def run(pipe, joints, settings):
    init = pipe.initial_from_joints(joints)
    gen = pipe.refine(init, None, None, settings)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return init, stop.value


def test_refinement_resolves_intersections_and_stays_close(occupancy):
    pushed, truth = intersecting_pairs(8, seed=3)
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    before = [gt_volume(pipe, j) for j in pushed]
    init, refined = run(pipe, pushed, RefineSettings(steps=60))
    after_joints = refined.joints().detach().numpy()
    after = [gt_volume(pipe, j) for j in after_joints]
    assert sum(v > 0 for v in before) >= 6  # the fixture really made intersecting pairs
    assert sum(after) < 0.5 * sum(before)
    moved = np.linalg.norm(after_joints - init.joints.numpy(), axis=-1).mean()
    assert moved < 15.0  # resolved by small moves, not by throwing the hands apart
    # and closer to the un-pushed truth than the pushed input was (left hand)
    err_before = np.linalg.norm(pushed[:, 1] - truth[:, 1], axis=-1).mean()
    err_after = np.linalg.norm(after_joints[:, 1] - truth[:, 1], axis=-1).mean()
    assert err_after <= err_before + 2.0


def test_mesh_variant_poses_the_meshes_and_resolves(occupancy):
    pushed, _ = intersecting_pairs(6, seed=7)
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    before = [gt_volume(pipe, j) for j in pushed]
    _, refined = run(pipe, pushed, RefineSettings(point_set="mesh", steps=30))
    after = [gt_volume(pipe, j) for j in refined.joints().detach().numpy()]
    # Some of these pushes overlap by tens of cm^3, far deeper than estimators err: 30 steps more
    # than halve the total and resolve the shallower ones completely.
    assert sum(after) < 0.5 * sum(before)
    assert sum(1 for b, a in zip(before, after) if b > 0 and a == 0) >= 2


def test_safe_mode_only_keeps_changes_that_help(occupancy):
    from handviewer.refine.energy import intersection_term
    from handviewer.refine.refine import SAFE_BUDGET_MM

    pushed, _ = intersecting_pairs(6, seed=4)
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init, refined = run(pipe, pushed, RefineSettings(point_set="dense", steps=30, safe_mode=True))
    with torch.no_grad():
        j0, j1 = init.pair.joints(), refined.joints()
        i0 = intersection_term(occupancy, j0, "dense", True)
        i1 = intersection_term(occupancy, j1, "dense", True)
    assert (i1 <= i0 + 1e-5).all() and i1.sum() < i0.sum()
    assert ((j1 - j0).norm(dim=-1).mean((1, 2)) <= SAFE_BUDGET_MM + 1e-4).all()


def test_frames_with_one_hand_are_left_alone(occupancy):
    pushed, _ = intersecting_pairs(2, seed=5)
    pushed[1, 1] = np.nan  # frame 1: the left hand is missing
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init, refined = run(pipe, pushed, RefineSettings(steps=10))
    assert init.present.tolist() == [[True, True], [True, False]]
    assert torch.allclose(refined.right.angles[1], init.pair.right.angles[1])
    assert not torch.allclose(refined.right.trans[0], init.pair.right.trans[0])


def test_imported_predictions_are_fitted_by_ik():
    _, truth = intersecting_pairs(4, seed=6)
    pipe = Pipeline(occupancy=object(), uplift=object())
    init = pipe.initial_from_joints(truth)
    assert np.abs(init.joints.numpy() - truth).max() < 0.5


def test_vertices_are_posed_only_where_the_hands_can_touch(occupancy):
    pushed, _ = intersecting_pairs(2, seed=6)
    pushed[1, 1, :, 0] += 400.0  # frame 1: the left hand far aside
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    pair = pipe.initial_from_joints(pushed).pair
    j_all, v_all = pair.joints_and_vertices()
    j_some, v_some = pair.joints_and_vertices(touching_only=True)
    assert torch.equal(j_all, j_some)
    assert torch.allclose(v_some[0], v_all[0], atol=1e-4)  # touching: posed as usual
    assert v_some[1].abs().max() == 0  # apart: skipped (the loss never reads them)


def test_quiet_frames_skip_the_network_and_stay_put(occupancy, monkeypatch):
    import sys

    refine_module = sys.modules["handviewer.refine.refine"]  # the package re-exports a function of that name
    pushed, truth = intersecting_pairs(4, seed=8)
    frames = np.concatenate([pushed[:2], truth[2:]])  # two intersecting, two close but apart
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    settings = RefineSettings(point_set="mesh", steps=12)
    calls = []
    real_term = refine_module.intersection_term

    def counting(*args, frames=None, **kwargs):
        calls.append(None if frames is None else frames.clone())
        return real_term(*args, frames=frames, **kwargs)

    monkeypatch.setattr(refine_module, "intersection_term", counting)
    init, skipping = run(pipe, frames, settings)
    # Between checks the network saw only the intersecting frames, never the quiet ones.
    masked = [c for c in calls if c is not None]
    assert len(masked) >= settings.steps // 2 and all(c[:2].all() and not c[2:].any() for c in masked)
    skipped = skipping.joints().detach().numpy()
    moved = np.linalg.norm(skipped - init.joints.numpy(), axis=-1).max(axis=(1, 2))
    assert (moved[2:] < 1.0).all()  # hands that do not touch stay where the estimate put them

    monkeypatch.setattr(refine_module, "QUIET_CHECK_EVERY", 1)  # every step a full check: no skipping
    _, full = run(pipe, frames, settings)
    # Intersecting frames are refined as without skipping (up to float noise: the network sees
    # other batch sizes, and Adam amplifies the difference).
    assert np.abs(skipped[:2] - full.joints().detach().numpy()[:2]).max() < 1.0


def test_refinement_stops_early_when_nothing_touches_and_nothing_moves(occupancy):
    from handviewer.refine.refine import QUIET_CHECK_EVERY

    _, truth = intersecting_pairs(3, seed=9)
    truth[:, 1, :, 0] += 400.0  # hands far apart, 3D input only: nothing to do
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(truth)
    gen = pipe.refine(init, None, None, RefineSettings(steps=40))
    messages = []
    while True:
        try:
            messages.append(next(gen))
        except StopIteration as stop:
            refined = stop.value
            break
    assert len(messages) == QUIET_CHECK_EVERY + 1 and messages[-1][0] == 1.0 and "settled" in messages[-1][1]
    assert torch.allclose(refined.joints(), init.pair.joints(), atol=1e-4)
    # With one pair in contact the batch runs every step.
    truth[0] = intersecting_pairs(1, seed=9)[0][0]
    init = pipe.initial_from_joints(truth)
    assert sum(1 for _ in pipe.refine(init, None, None, RefineSettings(steps=40))) == 40


def test_early_stop_never_ends_worse_than_a_full_run(occupancy, monkeypatch):
    """Far-apart hands whose 3D input already fits noisy 2D keypoints: the data terms first rise
    (Adam's first steps move every parameter), and that must not count as settled."""
    import sys

    from handviewer.refine.energy import EnergyWeights, data_terms, project
    from handviewer.uplift.synthetic import make_pool, view

    refine_module = sys.modules["handviewer.refine.refine"]
    pool = make_pool(12, seed=12)
    _, K, joints = view(pool, torch.arange(12), torch.Generator().manual_seed(1), noise_px=0.0, drop=0.0)
    joints = joints.clone()
    joints[:, 1, :, 0] += 300.0  # hands far apart: nothing touches
    noise = 3.0 * torch.randn(joints.shape[:-1] + (2,), generator=torch.Generator().manual_seed(2))
    kp = torch.cat([project(joints, K) + noise, torch.full(joints.shape[:-1] + (1,), 0.9)], -1).numpy()
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(joints.numpy())
    start = init.pair.joints().detach()

    def energy(pair):
        with torch.no_grad():
            return data_terms(pair.joints(), start, torch.as_tensor(kp), K, EnergyWeights()).sum().item()

    def refined():
        gen = pipe.refine(init, kp, K.numpy(), RefineSettings(steps=40))
        while True:
            try:
                next(gen)
            except StopIteration as stop:
                return stop.value

    early = energy(refined())
    monkeypatch.setattr(refine_module, "SETTLED_CHANGE", -1.0)  # never settled: all 40 steps
    full = energy(refined())
    assert early < energy(init.pair) and early <= full * 1.05 + 1e-3
