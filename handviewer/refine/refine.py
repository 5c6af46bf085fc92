"""Per-frame refinement: move both hands' poses (bone lengths and palm layout held) to resolve
intersections while staying true to the 2D keypoints and the initial 3D estimate.

Minimises  weight * intersection loss + reprojection error + distance to the initial estimate,
each frame on its own, with joint limits enforced by projection after every step:
1. the data terms alone (Levenberg-Marquardt);
2. the push, on the frames whose hands touch: placement first (rotation and translation of both
   hands), the finger joints only for frames still touching after PLACEMENT_SHARE of the steps, at a
   lower rate. Soft contact is allowed: the loss tests each vertex `settings.contact_mm` inside its
   own hand's surface, so hands pressed together by less than that are not pushed;
3. the relax: back towards the data fit as far as the hands stay apart (a line search);
then the exact metrics (`intersect.resolved`) check the pushed frames, and those still intersecting
go round again with half the inset and the "surface" point set (EXACT_ROUNDS in all).
"Safe" mode (after IHMR) optimises one parameter group at a time and keeps a group's change for a
frame only if the intersection loss went down, the reprojection error (when 2D keypoints are given)
did not go up, and the hands stay within `SAFE_BUDGET_MM` (mean joint displacement) of the initial
estimate.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace

import numpy as np
import torch

from handviewer.device_constants import flip_x
from handviewer.hand.kinematics import forward_kinematics, joints_moved_by
from handviewer.hand.lm import levenberg_marquardt
from handviewer.hand.pair import PairParams
from handviewer.hand.params import HandParams, clamp_angles, limits
from handviewer.hand.template import PALM_SLICE
from handviewer.intersect import boxes_overlap
from handviewer.intersect.names import SURFACE_SETS
from handviewer.pipeline.settings import RefineSettings
from handviewer.refine.energy import (
    EnergyWeights, data_residuals, data_terms, frame_confidence, intersection_term, reprojection_term,
)

# Parameter groups in the order safe mode visits them (bone lengths are held throughout).
SAFE_GROUPS = (("trans",), ("rot",), ("angles",))
# Pose parameters of one hand, in the order of the flat vectors `fit_data_terms` optimises.
POSE_FIELDS = ("rot", "trans", "angles")
# Levenberg-Marquardt iterations of the data fit (each one batched FK call); it converges in 3-8.
DATA_FIT_ITERATIONS = 12
# After the intersection steps, a pushed frame moves back towards its data fit as far as its hands
# stay apart: a search over these fractions of the way (one network call), then RELAX_REFINE more
# between the best one and the next (`_relax`).
RELAX_FRACTIONS = (1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125)
RELAX_REFINE = 3
_LR = {"trans": 1.0, "rot": 0.01, "angles": 0.02}
# Placement first: the push moves only the hands' placement (rot, trans) for this share of the step
# budget; a frame still touching after it may then also bend its joints, at ANGLE_LR_LATE (a
# quarter of the old rate: the joints move only as far as the contact needs). The palm's angles
# (the per-person palm layout, a shape) are held, like the bone lengths.
PLACEMENT_SHARE = 0.5
ANGLE_LR_LATE = 0.005
# Adam's epsilon: a parameter whose gradient is far below this barely moves. With torch's default
# (1e-8) Adam moves every parameter by about one learning rate per step whatever its gradient, so a
# gradient of float noise (a hand pushed where the occupancy is flat) took full steps, and a frame
# refined in a batch could end millimetres from the same frame refined alone.
ADAM_EPS = 0.1
# Rounds of push and relax: after each, the frames the exact metrics still call intersecting go again.
EXACT_ROUNDS = 3
SAFE_BUDGET_MM = 5.0
# A frame whose intersection term is below QUIET_LOSS (e.g. 10 points at p = 0.01) counts as not
# touching.
QUIET_LOSS = 1e-3


def refine(
    net,
    start: PairParams,
    keypoints: torch.Tensor | None,
    K: torch.Tensor | None,
    settings: RefineSettings,
    weights: EnergyWeights | None = None,
) -> Generator[tuple[float, str], None, PairParams]:
    """Refine N frames at once, each frame on its own (a batch gives each frame what refining it
    alone would, up to float rounding; a frame that needs a second round, a deep overlap the exact
    metrics still call intersecting, may end a few millimetres apart: each round restarts from a pose
    that rounding has moved, and a deep push is sensitive to its start).

    start: initial parameters (both hands present in every frame; frames with a missing hand should
    not be passed). keypoints (N, 2, 21, 3) px + confidence or None; K (N, 3, 3) or None.
    settings.weight multiplies the intersection term; weights: the data terms' scales (default
    `EnergyWeights()`). Yields progress; closing the generator stops at the next step. Returns the
    refined parameters. Three stages (see the module docstring): the data terms alone
    (Levenberg-Marquardt), Adam on the frames whose hands touch, each until its hands are apart (at
    most `settings.steps` steps a round), then those frames back towards their data fit as far as
    their hands stay apart; frames the exact metrics still call intersecting go round again.
    """
    weights = weights or EnergyWeights()
    with torch.no_grad():
        initial = start.joints()
    if len(initial) == 0:
        return start.detach()
    if settings.safe_mode:
        return (yield from _refine_safe(net, start, initial, keypoints, K, settings, weights))
    # 1. The data terms alone, by Levenberg-Marquardt (a few batched FK calls): Adam needed all 40
    # steps to fit 2D keypoints and had still not converged. 3D input without keypoints starts at
    # its optimum (distance 0 to itself).
    pair = start.detach()
    if keypoints is not None and K is not None and weights.reprojection > 0:
        yield 0.0, "refining: fitting the keypoints"
        pair = fit_data_terms(pair, initial, keypoints, K, weights)
    fitted = _flatten(pair)
    # 2. Adam on the frames whose hands touch, each until it no longer does; 3. back towards the data
    # fit as far as the hands stay apart. The network's verdict is approximate near the surface: a
    # frame that the exact metrics still call intersecting goes round again with half the inset.
    # Only frames that intersect by the one rule are pushed: soft contact (real hands pressed together)
    # is left as the data fit put it, however the network sees it near the surface.
    todo, total = _intersecting_near(pair), 0
    for round_ in range(EXACT_ROUNDS):
        if not bool(todo.any()):
            break
        pair, touched, live, done, steps = yield from _push_apart(net, pair, initial, keypoints, K, settings,
                                                                  weights, todo)
        total += steps
        if bool(touched.any()):
            # Frames done earlier kept drifting on Adam's momentum (zero gradient, nonzero update):
            # they take their pose from the step they were done; frames still touching, their last.
            x = torch.where((touched & ~live)[:, None], done, _flatten(pair))
            pair = _relax(net, _unflatten(x, pair.right.bones.detach(), pair.left.bones.detach()), fitted,
                          touched, settings, weights)
        if round_ + 1 == EXACT_ROUNDS or settings.point_set not in SURFACE_SETS:
            break
        # Every frame whose hands are near, not only the pushed ones: near the surface the network can
        # miss an overlap altogether (a vertex just deeper than the inset, fingers crossing).
        todo = _intersecting_near(pair)
        # Again with half the inset, and the faces' centres too (crossing fingers may overlap with no
        # vertex inside the other hand).
        settings = replace(settings, contact_mm=0.5 * settings.contact_mm, point_set="surface")
    yield 1.0, f"refining: done after {total} steps"
    return pair.detach()


def _intersecting_near(pair: PairParams) -> torch.Tensor:
    """(N,) bool: frames whose hands' padded boxes overlap and whose meshes intersect by the exact rule."""
    with torch.no_grad():
        joints = pair.joints()
    return exact_intersecting(pair, boxes_overlap(joints[:, 0], joints[:, 1]))


def exact_intersecting(pair: PairParams, frames: torch.Tensor) -> torch.Tensor:
    """(N,) bool: the frames among `frames` ((N,) bool) whose plain meshes intersect by the exact
    metrics (manifold3d) beyond soft contact (`intersect.resolved.is_intersecting`)."""
    from handviewer.hand.model import topology
    from handviewer.intersect.metrics import exact_intersection, penetration_depths
    from handviewer.intersect.resolved import is_intersecting

    out = torch.zeros_like(frames)
    idx = torch.nonzero(frames)[:, 0]
    if len(idx) == 0:
        return out
    with torch.no_grad():
        _, verts = PairParams(pair.right[idx], pair.left[idx]).joints_and_vertices()
    verts = verts.double().cpu().numpy()
    faces = topology("plain").faces
    faces_left = faces[:, ::-1].copy()
    for k, i in enumerate(idx.tolist()):
        body = exact_intersection(verts[k, 0], faces, verts[k, 1], faces_left)
        if body is None:  # manifold3d refused a mesh: let the network's verdict stand
            continue
        depth = penetration_depths(verts[k, 0], faces, verts[k, 1], faces_left)[1]
        out[i] = is_intersecting(body.volume_mm3 / 1000.0, depth)
    return out


def _push_apart(net, pair: PairParams, initial, keypoints, K, settings: RefineSettings, weights: EnergyWeights,
                candidates: torch.Tensor | None = None):
    """Stage 2 of `refine`: Adam on the frames whose hands touch, each until they no longer do;
    candidates (N,) bool: only these frames may be pushed (None: all).

    Every frame sits at the minimum of its data terms (stage 1), so only the touching ones have
    anything left to do, and only they enter the energy: Adam moves a parameter by about one
    learning rate per step whatever the size of its gradient, so even the ~0 data gradient of a
    settled frame would jitter it, while an exactly zero gradient leaves it in place.
    Which frames touch (intersection term >= QUIET_LOSS) is checked for the candidates at step 0 only;
    the others never enter the network again (Adam would move hands that merely nearly touch
    millimetres for the tiny term, hence the threshold).
    Yields progress; returns (pair, touched (N,) bool: pushed at all, live (N,) bool: still
    touching at the end, done (N, 84): each frame's pose at the first step its hands were apart
    (see `_flatten`), steps taken).
    """
    touched = torch.zeros(len(initial), dtype=torch.bool, device=initial.device)
    live = touched.clone()  # touched and not yet apart
    done = _flatten(pair)
    tensors = [getattr(h, n).requires_grad_(True) for h in (pair.right, pair.left) for n in POSE_FIELDS]
    groups = [{"params": [t], "lr": _LR[n] if n != "angles" else 0.0, "name": n} for t, n in zip(tensors, POSE_FIELDS * 2)]
    opt = torch.optim.Adam(groups, eps=ADAM_EPS)
    placement_steps = int(round(PLACEMENT_SHARE * settings.steps))
    palm = [h.angles[:, PALM_SLICE].detach().clone() for h in (pair.right, pair.left)]
    steps = 0
    for step in range(settings.steps):
        if step == placement_steps:  # frames still touching may now bend their joints too
            for group in opt.param_groups:
                if group["name"] == "angles":
                    group["lr"] = ANGLE_LR_LATE
        opt.zero_grad(set_to_none=True)
        data, inter = _energy(net, pair, initial, keypoints, K, settings, weights, live if step else candidates)
        touching = inter.detach() >= QUIET_LOSS
        if step == 0:
            touched = touching if candidates is None else touching & candidates
            live = touched
            evaluated = candidates if candidates is not None else torch.ones_like(live)
            if bool(live.any()) and bool((live != evaluated).any()):
                # Again on the touching frames alone: the network then sees the same points as for
                # these frames refined without the others, so that the batch does not change the
                # first step (a deep push amplifies any difference, even of float rounding).
                data, inter = _energy(net, pair, initial, keypoints, K, settings, weights, live)
        # A frame is done at the first step its hands no longer touch: further steps could only
        # trade its data terms against an intersection term that is already ~0 (stage 3 does that
        # faster). Frames are independent (Adam is elementwise), so each stops on its own.
        done = torch.where((live & ~touching)[:, None], _flatten(pair), done)
        live = live & touching
        if not live.any():
            break
        torch.where(live, data + settings.weight * inter, 0.0).sum().backward()
        opt.step()
        _clamp(pair, palm)
        steps = step + 1
        yield steps / max(settings.steps, 1), f"refining: step {steps}/{settings.steps}"
    return pair, touched, live, done, steps


def fit_data_terms(pair: PairParams, initial: torch.Tensor, keypoints: torch.Tensor | None, K: torch.Tensor | None,
                   weights: EnergyWeights, iterations: int = DATA_FIT_ITERATIONS) -> PairParams:
    """Each frame's pose (both hands, bone lengths held) at the minimum of its data terms: the
    reprojection error to the keypoints and the distance to `initial` (N, 2, 21, 3) mm; within the
    joint limits. keypoints (N, 2, 21, 3) px + confidence, K (N, 3, 3) px.

    A frame's data terms are a sum over its two hands, so each hand is
    its own 42-parameter problem: Levenberg-Marquardt on 2N rows, one FK call of 2N * 20 hands
    per iteration (the five fingers probed together; half the FK and an eighth of the linear algebra of
    solving both hands at once)."""
    n, flip = len(initial), flip_x(initial, torch.float64)
    hands = HandParams.cat([pair.right.detach(), pair.left.detach()])  # rights, then lefts (mirrored)
    bones = hands.bones.double()
    per_hand = lambda t: t.double().transpose(0, 1).reshape(2 * n, 1, 21, t.shape[-1])  # noqa: E731
    goal = per_hand(initial)
    kp = per_hand(keypoints) if keypoints is not None else None
    cam = K.double().repeat(2, 1, 1) if K is not None else None
    confidence = frame_confidence(keypoints.double()).repeat(2) if keypoints is not None else None
    mirror = torch.arange(2 * n, device=initial.device) >= n

    def residuals(x: torch.Tensor, hand: torch.Tensor) -> torch.Tensor:
        joints = forward_kinematics(_hand(x, bones[hand])).joints
        joints = torch.where(mirror[hand, None, None], joints * flip, joints)[:, None]
        return data_residuals(joints, goal[hand], kp[hand] if kp is not None else None,
                              cam[hand] if cam is not None else None, weights, confidence[hand] if kp is not None else None)

    low, high = limits(initial.device, dtype=torch.float64)
    free = torch.full((6,), float("inf"), dtype=torch.float64, device=initial.device)
    start = torch.cat([getattr(hands, name) for name in POSE_FIELDS], 1)
    with torch.no_grad():
        moved = joints_moved_by(with_bones=False)  # (D, 21); residuals: 3D (21 x 3), then 2D (21 x 2)
        with_2d = kp is not None and cam is not None and weights.reprojection > 0
        pattern = np.concatenate([np.repeat(moved, 3, axis=1)] + ([np.repeat(moved, 2, axis=1)] if with_2d else []), 1)
        x = levenberg_marquardt(residuals, start, torch.cat([-free, low]), torch.cat([free, high]), iterations,
                                sparsity=torch.as_tensor(pattern))
    fitted = _hand(x.to(hands.angles.dtype), hands.bones)
    return PairParams(fitted[:n], fitted[n:]).detach()


def _flatten(pair: PairParams) -> torch.Tensor:
    """(N, 84): POSE_FIELDS of the right hand, then of the left (the limits' order: rot, trans, angles)."""
    return torch.cat([getattr(h, n).detach() for h in (pair.right, pair.left) for n in POSE_FIELDS], 1)


def _unflatten(x: torch.Tensor, bones_right: torch.Tensor, bones_left: torch.Tensor) -> PairParams:
    right, left = x.split(x.shape[1] // 2, 1)
    return PairParams(_hand(right, bones_right), _hand(left, bones_left))


def _hand(x: torch.Tensor, bones: torch.Tensor) -> HandParams:
    """(N, 42) POSE_FIELDS of N hands (rot, trans, angles) with their bones (N, 20) -> HandParams."""
    rot, trans, angles = x.split([3, 3, x.shape[1] - 6], 1)
    return HandParams(rot=rot, trans=trans, bones=bones, angles=angles)


def _relax(net, pair: PairParams, fitted: torch.Tensor, frames: torch.Tensor, settings, weights) -> PairParams:
    """Move each of `frames` ((N,) bool) from its refined pose towards `fitted` ((N, D), its data fit;
    see `_flatten`) as far as its hands do not touch (intersection term < QUIET_LOSS): the largest of
    RELAX_FRACTIONS of the way that keeps them apart, then a bisection between it and the next
    fraction (RELAX_REFINE halvings). Frames where no fraction qualifies stay as they are. One network
    call per round on all candidates of all frames."""
    idx = torch.nonzero(frames)[:, 0]
    sub = PairParams(pair.right[idx], pair.left[idx])
    x0, goal = _flatten(sub), fitted[idx]
    bones = (sub.right.bones, sub.left.bones)

    def apart(t: torch.Tensor) -> torch.Tensor:
        """t (F, C) fractions -> (F, C) bool: whether the hands are apart that far towards the fit."""
        xs = x0[:, None] + t[..., None] * (goal - x0)[:, None]
        c = t.shape[1]
        candidates = _unflatten(xs.reshape(-1, x0.shape[1]), bones[0].repeat_interleave(c, 0),
                                bones[1].repeat_interleave(c, 0))
        with torch.no_grad():
            return (_intersection(net, candidates, settings, weights) < QUIET_LOSS).reshape(-1, c)

    grid = torch.tensor(RELAX_FRACTIONS, dtype=x0.dtype, device=x0.device).expand(len(idx), -1)
    ok = apart(grid)  # fractions fall: the first True is the largest
    found = ok.any(1)
    first = ok.to(torch.uint8).argmax(1)
    rows = torch.arange(len(idx), device=x0.device)
    good = torch.where(found, grid[rows, first], torch.zeros_like(grid[:, 0]))  # apart at `good`
    step = 1.0 / len(RELAX_FRACTIONS)
    bad = (good + step).clamp(max=1.0)  # not apart there (or the end of the way)
    for _ in range(RELAX_REFINE):
        mid = 0.5 * (good + bad)
        mid_ok = apart(mid[:, None])[:, 0] & found
        good, bad = torch.where(mid_ok, mid, good), torch.where(mid_ok, bad, mid)
    x = torch.where(found[:, None], x0 + good[:, None] * (goal - x0), x0)
    chosen, out = _unflatten(x, *bones), pair.detach()
    for src, dst in ((chosen.right, out.right), (chosen.left, out.left)):
        for name in POSE_FIELDS:
            getattr(dst, name)[idx] = getattr(src, name)
    return out


def _intersection(net, pair: PairParams, settings, weights, joints=None, verts=None, frames=None) -> torch.Tensor:
    """(N,) intersection term of the settings' variant (posing the plain meshes when it needs them);
    frames (N,) bool: evaluate only these (the others get 0)."""
    if settings.point_set in SURFACE_SETS and verts is None:
        joints, verts = pair.joints_and_vertices(inset_mm=settings.contact_mm,
                                                 face_centres=settings.point_set == "surface")
    elif joints is None:
        joints = pair.joints()
    return intersection_term(net, joints, settings.point_set, settings.both_hands, verts, weights.margin_logit,
                             frames=frames)


def _energy(net, pair, initial, keypoints, K, settings, weights, frames=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(N,) data terms and (N,) intersection term (0 for frames not in `frames`, when given), unweighted."""
    use_mesh = settings.weight > 0 and settings.point_set in SURFACE_SETS
    joints, verts = (pair.joints_and_vertices(_touching(frames), inset_mm=settings.contact_mm,
                                              face_centres=settings.point_set == "surface") if use_mesh
                     else (pair.joints(), None))
    e = data_terms(joints, initial, keypoints, K, weights)
    inter = torch.zeros_like(e)
    if settings.weight > 0:
        inter = _intersection(net, pair, settings, weights, joints, verts, frames)
    return e, inter


def _touching(frames: torch.Tensor | None):
    """For `PairParams.joints_and_vertices`: the frames whose hands' padded boxes overlap (the
    intersection loss skips the others), and of those only `frames` ((N,) bool) when given."""

    def select(joints: torch.Tensor) -> torch.Tensor:
        near = boxes_overlap(joints[:, 0], joints[:, 1])
        return near & frames if frames is not None else near

    return select


def _clamp(pair: PairParams, palm: list[torch.Tensor] | None = None) -> None:
    """Angles into the joint limits; with `palm` ([right, left] (N, 10)), the palm's angles held there."""
    with torch.no_grad():
        for h, hand in enumerate((pair.right, pair.left)):
            hand.angles.copy_(clamp_angles(hand.angles))
            if palm is not None:
                hand.angles[:, PALM_SLICE] = palm[h]


def _refine_safe(net, start, initial, keypoints, K, settings, weights):
    """IHMR-style: per group, a few Adam steps; keep them per frame only if both errors dropped."""
    pair = start.detach()
    per_group = max(1, settings.steps // len(SAFE_GROUPS))
    done = 0
    for group in SAFE_GROUPS:
        with torch.no_grad():
            joints = pair.joints()
            before_int = _intersection(net, pair, settings, weights, joints)
            before_2d = reprojection_term(joints, keypoints, K, weights)
        trial = pair.detach()
        tensors = [getattr(h, n).requires_grad_(True) for h in (trial.right, trial.left) for n in group]
        opt = torch.optim.Adam([{"params": [t], "lr": _LR[n]} for t, n in zip(tensors, group * 2)])
        for _ in range(per_group):
            opt.zero_grad(set_to_none=True)
            data, inter = _energy(net, trial, initial, keypoints, K, settings, weights)
            (data + settings.weight * inter).sum().backward()
            opt.step()
            _clamp(trial)
            done += 1
            yield done / (per_group * len(SAFE_GROUPS)), f"safe refinement: {group[0]} step {done}"
        with torch.no_grad():
            joints = trial.joints()
            after_int = _intersection(net, trial, settings, weights, joints)
            after_2d = reprojection_term(joints, keypoints, K, weights)
            moved = (joints - initial).norm(dim=-1).mean((1, 2))
            keep = (after_int < before_int) & (after_2d <= before_2d + 1e-6) & (moved <= SAFE_BUDGET_MM)
            for src, dst in ((trial.right, pair.right), (trial.left, pair.left)):
                for name in group:
                    getattr(dst, name)[keep] = getattr(src, name).detach()[keep]
    return pair.detach()
