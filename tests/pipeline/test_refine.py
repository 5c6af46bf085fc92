import numpy as np
import torch

from handviewer.hand import HandModel
from handviewer.intersect import count_intersections
from handviewer.intersect.resolved import CONTACT_VOLUME_CM3
from handviewer.pipeline.stages import Pipeline
from handviewer.pipeline.settings import RefineSettings
from handviewer.hand.pair import PairParams
from handviewer.refine.energy import project

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
    # Resolved by moves of about the push (12 mm, mostly of the hands' placement), not by throwing the
    # hands apart.
    assert moved < 20.0
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
    assert sum(1 for b, a in zip(before, after) if b > 0 and a <= CONTACT_VOLUME_CM3) >= 2  # soft contact at most


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
    from handviewer.intersect import boxes_overlap

    pushed, _ = intersecting_pairs(2, seed=6)
    pushed[1, 1, :, 0] += 400.0  # frame 1: the left hand far aside
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    pair = pipe.initial_from_joints(pushed).pair
    j_all, v_all = pair.joints_and_vertices()
    j_some, v_some = pair.joints_and_vertices(select=lambda j: boxes_overlap(j[:, 0], j[:, 1]))
    assert torch.equal(j_all, j_some)
    assert torch.allclose(v_some[0], v_all[0], atol=1e-4)  # touching: posed as usual
    assert v_some[1].abs().max() == 0  # apart: skipped (the loss never reads them)


def test_quiet_frames_skip_the_network_and_stay_put(occupancy, monkeypatch):
    import sys

    refine_module = sys.modules["handviewer.refine.refine"]  # the package re-exports a function of that name
    pushed, truth = intersecting_pairs(4, seed=8)
    frames = np.concatenate([pushed[:2], truth[2:]])  # two intersecting, two close but apart
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    settings = RefineSettings(point_set="mesh", steps=40)
    calls = []
    real_term = refine_module.intersection_term

    def counting(net, joints, *args, frames=None, **kwargs):
        # how many pairs the network is asked about (all of the batch, or those of `frames`)
        calls.append(len(joints) if frames is None else int(frames.sum()))
        return real_term(net, joints, *args, frames=frames, **kwargs)

    monkeypatch.setattr(refine_module, "intersection_term", counting)
    init, skipping = run(pipe, frames, settings)
    with_quiet, calls[:] = list(calls), []
    _, alone = run(pipe, frames[:2], settings)  # the intersecting frames without the quiet ones
    # The network is asked about the same pairs as without the quiet frames: never about those.
    assert with_quiet and with_quiet == calls
    skipped = skipping.joints().detach().numpy()
    moved = np.linalg.norm(skipped - init.joints.numpy(), axis=-1).max(axis=(1, 2))
    assert (moved[2:] < 1.0).all()  # hands that do not touch stay where the estimate put them
    assert (moved[:2] > 1.0).all()  # the intersecting ones were pushed
    # Intersecting frames are refined as without the quiet frames (up to float noise).
    assert np.abs(skipped[:2] - alone.joints().detach().numpy()).max() < 1.0


def drain_messages(gen):
    messages = []
    while True:
        try:
            messages.append(next(gen))
        except StopIteration as stop:
            return messages, stop.value


def test_refinement_stops_at_once_when_nothing_touches_and_runs_until_contact_is_resolved(occupancy):
    from handviewer.refine.energy import intersection_term
    from handviewer.refine.refine import QUIET_LOSS, exact_intersecting

    _, truth = intersecting_pairs(3, seed=9)
    truth[:, 1, :, 0] += 400.0  # hands far apart, 3D input only: nothing to do
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(truth)
    messages, refined = drain_messages(pipe.refine(init, None, None, RefineSettings(steps=40)))
    assert messages == [(1.0, "refining: done (0 parted by the placement search, 0 Adam steps)")]
    assert torch.allclose(refined.joints(), init.pair.joints(), atol=1e-4)
    # One pair in contact: moved until it no longer touches; the others do not move.
    truth[0] = intersecting_pairs(1, seed=9)[0][0]
    init = pipe.initial_from_joints(truth)
    messages, refined = drain_messages(pipe.refine(init, None, None, RefineSettings(steps=40)))
    assert messages[0] == (0.0, "refining: moving the hands of 1 frame(s) apart") and messages[-1][0] == 1.0
    joints = refined.joints().detach()
    assert torch.allclose(joints[1:], init.pair.joints()[1:], atol=1e-4)
    # Apart by the network's verdict on the hands with their soft-contact inset, and by the exact rule.
    inset = refined.joints_and_vertices(inset_mm=RefineSettings().contact_mm)[1].detach()
    assert float(intersection_term(occupancy, joints[:1], "mesh", True, inset[:1])) < QUIET_LOSS
    assert not exact_intersecting(refined, torch.tensor([True, False, False]))[0]


def refined_vertices(pair):
    return pair.joints_and_vertices()[1].detach()


def test_the_keypoint_fit_reaches_the_minimum_of_the_data_terms(occupancy):
    """Far-apart hands (nothing touches) whose 3D input does not fit noisy 2D keypoints: refinement
    is the data fit alone, and it ends as low as a long gradient descent on the same energy."""
    from handviewer.hand.params import clamp_angles
    from handviewer.refine.energy import EnergyWeights, data_terms, project
    from handviewer.uplift.synthetic import make_pool, view

    pool = make_pool(12, seed=12)
    _, K, joints = view(pool, torch.arange(12), torch.Generator().manual_seed(1), noise_px=0.0, drop=0.0)
    joints = joints.clone()
    joints[:, 1, :, 0] += 300.0  # hands far apart: nothing touches
    noise = 3.0 * torch.randn(joints.shape[:-1] + (2,), generator=torch.Generator().manual_seed(2))
    kp = torch.cat([project(joints, K) + noise, torch.full(joints.shape[:-1] + (1,), 0.9)], -1)
    kp[:, :, ::4, :] = float("nan")  # some keypoints missing
    start_joints = joints + torch.tensor([0.0, 0.0, 25.0])  # the 3D input 25 mm too far away
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(start_joints.numpy())
    start = init.pair.joints().detach()

    def energy(pair):
        with torch.no_grad():
            return data_terms(pair.joints(), start, kp, K, EnergyWeights())

    _, refined = drain_messages(pipe.refine(init, kp.numpy(), K.numpy(), RefineSettings(steps=40)))
    long = init.pair.detach()
    tensors = [getattr(h, n).requires_grad_(True) for h in (long.right, long.left) for n in ("rot", "trans", "angles")]
    opt = torch.optim.Adam(tensors, lr=0.003)
    for _ in range(1500):
        opt.zero_grad()
        data_terms(long.joints(), start, kp, K, EnergyWeights()).sum().backward()
        opt.step()
        with torch.no_grad():
            for hand in (long.right, long.left):
                hand.angles.copy_(clamp_angles(hand.angles))
    fit, descent, before = energy(refined), energy(long), energy(init.pair)
    assert (fit < 0.5 * before).all()
    assert (fit <= descent * 1.01 + 1e-4).all()
    assert torch.equal(clamp_angles(refined.right.angles), refined.right.angles)


def test_pushed_frames_relax_towards_their_data_fit_while_staying_apart(occupancy, monkeypatch):
    import sys

    from handviewer.refine.energy import EnergyWeights, data_terms

    refine_module = sys.modules["handviewer.refine.refine"]
    pushed, truth = intersecting_pairs(6, seed=4)  # 3D input pushed into contact, keypoints of the truth
    joints = torch.as_tensor(truth)
    K = torch.tensor([[768.0, 0, 320], [0, 768, 240], [0, 0, 1]]).expand(6, 3, 3)
    kp = torch.cat([project(joints, K), torch.full(joints.shape[:-1] + (1,), 0.9)], -1)
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(pushed)

    def result():
        # contact_mm 0: judged below by the plain intersection term, as refinement then pushes
        _, pair = drain_messages(pipe.refine(init, kp.numpy(), K.numpy(), RefineSettings(steps=40, contact_mm=0.0)))
        with torch.no_grad():
            joints, verts = pair.joints_and_vertices()
            data = data_terms(joints, init.pair.joints(), kp, K, EnergyWeights())
            inter = refine_module.intersection_term(occupancy, joints, "mesh", True, verts)
        return data, inter

    # The Adam push and its relax: the placement search made to part nothing (a ladder of one step, 0 mm).
    monkeypatch.setattr(refine_module, "SEARCH_STEPS_MM", (0.0,))
    relaxed, relaxed_inter = result()
    monkeypatch.setattr(refine_module, "RELAX_FRACTIONS", (0.0,))  # the pushed pose itself
    monkeypatch.setattr(refine_module, "RELAX_REFINE", 0)
    pushed_data, pushed_inter = result()
    apart = pushed_inter < refine_module.QUIET_LOSS
    assert apart.sum() >= 3
    assert (relaxed_inter[apart] < refine_module.QUIET_LOSS).all()
    assert (relaxed[apart] <= pushed_data[apart] + 1e-5).all()
    assert (relaxed[apart] < pushed_data[apart] - 1e-2).any()  # each frame stops as soon as it is apart: small gains


def test_the_placement_search_moves_the_hands_no_further_than_it_takes(occupancy, monkeypatch):
    """Touching frames are parted by moving both hands' placement down the intersection gradient:
    the halvings between the first ladder step that parts them and the one before land closer to
    the data fit than that ladder step, still apart; the finger joints do not move."""
    import sys

    from handviewer.refine.energy import EnergyWeights, data_terms

    refine_module = sys.modules["handviewer.refine.refine"]
    pushed, _ = intersecting_pairs(6, seed=4)
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(pushed)
    start = init.pair.joints().detach()

    def result():
        messages, pair = drain_messages(pipe.refine(init, None, None, RefineSettings(contact_mm=0.0)))
        with torch.no_grad():
            joints, verts = pair.joints_and_vertices()
            inter = refine_module.intersection_term(occupancy, joints, "mesh", True, verts)
        return pair, data_terms(joints, start, None, None, EnergyWeights()), inter, messages[-1][1]

    searched, data, inter, message = result()
    monkeypatch.setattr(refine_module, "SEARCH_REFINE", 0)  # the first ladder step that parts them
    _, coarse, coarse_inter, _ = result()
    assert "Adam steps" in message and not message.startswith("refining: done (0 parted")
    apart = (inter < refine_module.QUIET_LOSS) & (coarse_inter < refine_module.QUIET_LOSS)
    assert apart.sum() >= 3
    assert (data[apart] <= coarse[apart] + 1e-5).all()
    assert (data[apart] < coarse[apart] - 1e-3).any()
    parted = (searched.right.angles - init.pair.right.angles).abs().amax(1) < 1e-6
    assert parted.sum() >= 3  # frames parted by placement alone: their fingers are as they were


def _touching_pairs_flat(occupancy, n: int):
    """n pushed-together pairs fitted by IK: (the refine module, their flat poses (n, 84), their bones
    (right, left))."""
    import sys

    refine_module = sys.modules["handviewer.refine.refine"]  # the package re-exports a function of that name
    pushed, _ = intersecting_pairs(n, seed=4)
    pair = Pipeline(occupancy=occupancy, uplift=object()).initial_from_joints(pushed).pair
    return refine_module, refine_module._flatten(pair), (pair.right.bones, pair.left.bones)


def test_a_placement_step_moves_the_joints_one_mm_whatever_the_size_of_the_gradient(occupancy):
    """The search's unit step moves the joints 1 mm RMS, for a slight touch's small gradient too (a
    real contact variant was once sent 230 km away: its step, differenced in float32 on joints a metre
    from the camera, moved them by less than their rounding)."""
    refine_module, x0, bones = _touching_pairs_flat(occupancy, 2)
    g = torch.zeros_like(x0)
    g[:, refine_module._PLACEMENT] = torch.tensor([3.0, -1.0, 2.0, 0.5, 0.2, -0.1] * 2, dtype=x0.dtype)
    with torch.no_grad():
        start = refine_module._unflatten(x0, *bones).joints()
        for size in (1e-3, 1.0, 1e4):
            step = refine_module._placement_direction(bones, x0, size * g)
            moved = refine_module._unflatten(x0 + 8.0 * step, *bones).joints() - start  # the ladder's longest
            rms = (moved.square().sum((-1, -2, -3)) / 42).sqrt()
            assert torch.allclose(rms, torch.full_like(rms, 8.0), rtol=0.02), (size, rms)


def test_a_frame_is_refined_the_same_in_a_batch_as_alone(occupancy):
    # Each frame stops at its own first step apart, so a batch (process) gives each frame what
    # refining it alone (the app) gives, deep overlaps beside light ones included.
    pushed, truth = intersecting_pairs(6, seed=4)
    pushed[3:] = truth[3:]  # apart or lightly touching
    joints = torch.as_tensor(truth)
    K = torch.tensor([[768.0, 0, 320], [0, 768, 240], [0, 0, 1]]).expand(6, 3, 3)
    kp = torch.cat([project(joints, K), torch.full(joints.shape[:-1] + (1,), 0.9)], -1).numpy()
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(pushed)
    _, batch = drain_messages(pipe.refine(init, kp, K.numpy(), RefineSettings()))
    batch = batch.joints().detach().numpy()
    for i in range(6):
        one = pipe.initial_from_joints(pushed[i : i + 1])
        _, alone = drain_messages(pipe.refine(one, kp[i : i + 1], K[:1].numpy(), RefineSettings()))
        assert np.abs(alone.joints().detach().numpy()[0] - batch[i]).max() < 0.1, i


def test_frames_whose_hands_are_apart_stay_put(occupancy):
    """Far-apart hands (nothing touches), 3D input jittering 6 mm from frame to frame: nothing moves."""
    _, truth = intersecting_pairs(1, seed=5)
    frames = np.repeat(truth, 8, axis=0)
    frames[:, 1, :, 0] += 400.0
    frames += np.random.default_rng(0).normal(0.0, 6.0, size=(8, 2, 1, 3))  # each hand shifted per frame
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(frames)

    _, still = drain_messages(pipe.refine(init, None, None, RefineSettings(steps=40)))
    start = init.pair.joints().detach().numpy()
    assert np.allclose(still.joints().detach().numpy(), start, atol=1e-4)


def test_refining_no_frames_returns_no_frames(occupancy):
    from handviewer.refine import refine

    empty = intersecting_pairs(1, seed=1)[0][:0]
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(np.concatenate([empty, intersecting_pairs(1, seed=1)[0]]))
    nothing = PairParams(init.pair.right[:0], init.pair.left[:0])
    _, out = drain_messages(refine(occupancy, nothing, torch.zeros(0, 2, 21, 3), torch.zeros(0, 3, 3), RefineSettings()))
    assert len(out.right) == 0 and len(out.left) == 0


def test_the_push_moves_the_hands_placement_and_holds_the_palm(occupancy):
    """Placement first: the palm layout (a per-person shape, like the bone lengths) is not bent to
    resolve a contact; the refined palm is the data fit's palm."""
    from handviewer.hand.template import PALM_SLICE
    from handviewer.refine.energy import EnergyWeights
    from handviewer.refine.refine import fit_data_terms

    pushed, truth = intersecting_pairs(6, seed=11)
    joints = torch.as_tensor(truth)
    K = torch.tensor([[768.0, 0, 320], [0, 768, 240], [0, 0, 1]]).expand(6, 3, 3)
    kp = torch.cat([project(joints, K), torch.full(joints.shape[:-1] + (1,), 0.9)], -1)
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(pushed)
    _, refined = drain_messages(pipe.refine(init, kp.numpy(), K.numpy(), RefineSettings(steps=40)))
    fitted = fit_data_terms(init.pair, init.pair.joints().detach(), kp, K, EnergyWeights())
    for got, fit in ((refined.right, fitted.right), (refined.left, fitted.left)):
        assert torch.allclose(got.angles[:, PALM_SLICE], fit.angles[:, PALM_SLICE], atol=1e-4)
    moved = (refined.joints() - fitted.joints()).norm(dim=-1).mean((1, 2))
    assert (moved > 0.5).any()  # and it did push


def test_every_pushed_pair_ends_resolved_by_the_exact_rule(occupancy):
    """The network's verdict is approximate near the surface; the exact metrics decide when a pair
    is done (`intersect.resolved`)."""
    from handviewer.refine.refine import exact_intersecting

    pushed, _ = intersecting_pairs(6, seed=5, depth_mm=6.0)
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(pushed)
    everything = torch.ones(6, dtype=torch.bool)
    before = exact_intersecting(init.pair, everything)
    assert before.sum() >= 4  # the fixture intersects
    _, refined = run(pipe, pushed, RefineSettings(steps=40))
    after = exact_intersecting(refined, everything)
    assert not (after & ~before).any()
    assert after.sum() <= 1 < before.sum()  # some pool pairs overlap by tens of cm^3: one may be left


def test_a_wider_contact_tolerance_moves_touching_hands_less(occupancy):
    pushed, _ = intersecting_pairs(6, seed=8, depth_mm=4.0)
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init, strict = run(pipe, pushed, RefineSettings(steps=40, contact_mm=0.0))
    _, soft = run(pipe, pushed, RefineSettings(steps=40, contact_mm=4.0))
    start = init.pair.joints()
    moved = lambda pair: float((pair.joints() - start).norm(dim=-1).mean())  # noqa: E731
    assert moved(soft) < moved(strict)


def test_a_line_over_placements_judges_its_candidates_as_posing_each_one_does(occupancy):
    """The placement search tests rigid moves of hands posed once, with their encodings held: the
    intersection term of every candidate is the one of posing it, and so is each verdict."""
    refine_module, x0, bones = _touching_pairs_flat(occupancy, 4)
    direction = torch.zeros_like(x0)
    g = torch.Generator().manual_seed(2)
    direction[:, refine_module._PLACEMENT] = torch.randn(4, 12, generator=g) * torch.tensor([0.01] * 3 + [1.0] * 3).repeat(2)
    settings = RefineSettings(point_set="surface", contact_mm=1.0)
    weights = refine_module.EnergyWeights()
    line = refine_module._Line(occupancy, x0, direction, bones, settings, weights)
    assert line.posed is not None  # placements only: tested rigidly
    t = torch.tensor([0.0, 2.0, 5.0, 10.0]).expand(4, -1)
    with torch.no_grad():
        xs = (x0[:, None] + t[..., None] * direction[:, None]).reshape(-1, x0.shape[1])
        frame = torch.arange(4).repeat_interleave(4)
        rigid = line.posed.intersection(occupancy, frame, *refine_module._placement_of(xs), settings, weights)
        posed = refine_module._intersection(occupancy, refine_module._unflatten(xs, bones[0][frame], bones[1][frame]),
                                            settings, weights)
    assert (posed > 0).sum() >= 4  # some candidates touch
    assert torch.allclose(rigid, posed, rtol=1e-3, atol=1e-5)
    assert torch.equal(line.apart(t), (posed < refine_module.QUIET_LOSS).reshape(4, 4))
    # A line that bends a finger is not a rigid move: each candidate is posed.
    direction[:, 10] = 0.1
    assert refine_module._Line(occupancy, x0, direction, bones, settings, weights).posed is None


def test_the_intersection_points_carry_the_occupancy_of_both_hands(occupancy):
    """Each intersection point's probability is the smaller of the two hands' occupancies there."""
    pushed, _ = intersecting_pairs(3, seed=4)
    pipe = Pipeline(occupancy=occupancy, uplift=object())
    init = pipe.initial_from_joints(pushed)
    joints = init.pair.joints()
    seen = 0
    for i in range(3):
        _, points, probs = pipe.metrics(init.pair, init.present, i, None, None, None)
        if len(points) == 0:
            continue
        seen += 1
        pts = torch.as_tensor(points)[None]
        with torch.no_grad():
            want = torch.minimum(occupancy.probability(pts, joints[i : i + 1, 0]),
                                 occupancy.probability_left(pts, joints[i : i + 1, 1]))[0].numpy()
        assert np.allclose(probs, want, atol=1e-5)
        assert probs.max() > 0.5  # inside both hands
    assert seen >= 2
