"""Per-frame refinement: move both hands' poses (bone lengths held) to resolve intersections while
staying true to the 2D keypoints and the initial 3D estimate.

Minimises  weight * intersection loss + reprojection error + distance to the initial estimate,
each frame on its own, with joint limits enforced by projection after every step. "Safe" mode
(after IHMR) optimises one parameter group at a time and keeps a group's change for a frame only
if the intersection loss went down, the reprojection error (when 2D keypoints are given) did not go
up, and the hands stay within `SAFE_BUDGET_MM` (mean joint displacement) of the initial estimate.
"""

from __future__ import annotations

from collections.abc import Generator

import torch

from handviewer.device_constants import flip_x
from handviewer.hand.kinematics import forward_kinematics
from handviewer.hand.lm import levenberg_marquardt
from handviewer.hand.pair import PairParams
from handviewer.hand.params import HandParams, clamp_angles, limits
from handviewer.intersect import boxes_overlap
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
# After the intersection steps, a pushed frame moves back towards its data fit by the largest of
# these fractions of the way at which its hands stay apart (`_relax`).
RELAX_FRACTIONS = (0.8, 0.6, 0.4, 0.2)
_LR = {"trans": 1.0, "rot": 0.01, "angles": 0.02}
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
    alone would, up to float rounding).

    start: initial parameters (both hands present in every frame; frames with a missing hand should
    not be passed). keypoints (N, 2, 21, 3) px + confidence or None; K (N, 3, 3) or None.
    settings.weight multiplies the intersection term; weights: the data terms' scales (default
    `EnergyWeights()`). Yields progress; closing the generator stops at the next step. Returns the
    refined parameters. Three stages: the data terms alone (Levenberg-Marquardt), Adam on the frames
    whose hands touch, each until its hands are apart (at most `settings.steps` steps), then those
    frames back towards their data fit as far as their hands stay apart.
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
    # 2. Adam on the frames whose hands touch, each until it no longer does.
    pair, touched, live, done, steps = yield from _push_apart(net, pair, initial, keypoints, K, settings, weights)
    # 3. Adam's push moves every parameter, more than resolving the contact needs: take the pushed
    # frames back towards their data fit as far as their hands stay apart.
    if bool(touched.any()):
        # Frames done earlier kept drifting on Adam's momentum (zero gradient, nonzero update):
        # they take their pose from the step they were done; frames still touching, their last.
        x = torch.where((touched & ~live)[:, None], done, _flatten(pair))
        pair = _relax(net, _unflatten(x, pair.right.bones.detach(), pair.left.bones.detach()), fitted, touched,
                      settings, weights)
    yield 1.0, f"refining: done after {steps} steps"
    return pair.detach()


def _push_apart(net, pair: PairParams, initial, keypoints, K, settings: RefineSettings, weights: EnergyWeights):
    """Stage 2 of `refine`: Adam on the frames whose hands touch, each until they no longer do.

    Every frame sits at the minimum of its data terms (stage 1), so only the touching ones have
    anything left to do, and only they enter the energy: Adam moves a parameter by about one
    learning rate per step whatever the size of its gradient, so even the ~0 data gradient of a
    settled frame would jitter it, while an exactly zero gradient leaves it in place.
    Which frames touch (intersection term >= QUIET_LOSS) is checked for all frames at step 0 only;
    the others never enter the network again (Adam would move hands that merely nearly touch
    millimetres for the tiny term, hence the threshold).
    Yields progress; returns (pair, touched (N,) bool: pushed at all, live (N,) bool: still
    touching at the end, done (N, 74): each frame's pose at the first step its hands were apart
    (see `_flatten`), steps taken).
    """
    touched = torch.zeros(len(initial), dtype=torch.bool, device=initial.device)
    live = touched.clone()  # touched and not yet apart
    done = _flatten(pair)
    tensors = [getattr(h, n).requires_grad_(True) for h in (pair.right, pair.left) for n in POSE_FIELDS]
    opt = torch.optim.Adam([{"params": [t], "lr": _LR[n]} for t, n in zip(tensors, POSE_FIELDS * 2)])
    steps = 0
    for step in range(settings.steps):
        opt.zero_grad(set_to_none=True)
        data, inter = _energy(net, pair, initial, keypoints, K, settings, weights, live if step else None)
        touching = inter.detach() >= QUIET_LOSS
        if step == 0:
            touched, live = touching, touching
        # A frame is done at the first step its hands no longer touch: further steps could only
        # trade its data terms against an intersection term that is already ~0 (stage 3 does that
        # faster). Frames are independent (Adam is elementwise), so each stops on its own.
        done = torch.where((live & ~touching)[:, None], _flatten(pair), done)
        live = live & touching
        if not live.any():
            break
        torch.where(live, data + settings.weight * inter, 0.0).sum().backward()
        opt.step()
        _clamp(pair)
        steps = step + 1
        yield steps / max(settings.steps, 1), f"refining: step {steps}/{settings.steps}"
    return pair, touched, live, done, steps


def fit_data_terms(pair: PairParams, initial: torch.Tensor, keypoints: torch.Tensor | None, K: torch.Tensor | None,
                   weights: EnergyWeights, iterations: int = DATA_FIT_ITERATIONS) -> PairParams:
    """Each frame's pose (both hands, bone lengths held) at the minimum of its data terms: the
    reprojection error to the keypoints and the distance to `initial` (N, 2, 21, 3) mm; within the
    joint limits. keypoints (N, 2, 21, 3) px + confidence, K (N, 3, 3) px.

    A frame's data terms are a sum over its two hands, so each hand is
    its own 37-parameter problem: Levenberg-Marquardt on 2N rows, one FK call of 2N * 38 hands
    per iteration (half the FK and an eighth of the linear algebra of solving both hands at once)."""
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
        x = levenberg_marquardt(residuals, start, torch.cat([-free, low]), torch.cat([free, high]), iterations)
    fitted = _hand(x.to(hands.angles.dtype), hands.bones)
    return PairParams(fitted[:n], fitted[n:]).detach()


def _flatten(pair: PairParams) -> torch.Tensor:
    """(N, 74): POSE_FIELDS of the right hand, then of the left (the limits' order: rot, trans, angles)."""
    return torch.cat([getattr(h, n).detach() for h in (pair.right, pair.left) for n in POSE_FIELDS], 1)


def _unflatten(x: torch.Tensor, bones_right: torch.Tensor, bones_left: torch.Tensor) -> PairParams:
    right, left = x.split(x.shape[1] // 2, 1)
    return PairParams(_hand(right, bones_right), _hand(left, bones_left))


def _hand(x: torch.Tensor, bones: torch.Tensor) -> HandParams:
    """(N, 37) POSE_FIELDS of N hands (rot, trans, angles) with their bones (N, 20) -> HandParams."""
    rot, trans, angles = x.split([3, 3, x.shape[1] - 6], 1)
    return HandParams(rot=rot, trans=trans, bones=bones, angles=angles)


def _relax(net, pair: PairParams, fitted: torch.Tensor, frames: torch.Tensor, settings, weights) -> PairParams:
    """Move each of `frames` ((N,) bool) from its refined pose towards `fitted` ((N, 74), its data
    fit; see `_flatten`), by the largest of RELAX_FRACTIONS of the way at which its hands do not
    touch (intersection term < QUIET_LOSS); frames where none qualifies stay as they are.
    One network call on all candidates."""
    idx = torch.nonzero(frames)[:, 0]
    sub = PairParams(pair.right[idx], pair.left[idx])
    x0 = _flatten(sub)
    t = torch.tensor(RELAX_FRACTIONS, dtype=x0.dtype, device=x0.device)
    xs = x0[:, None] + t[:, None] * (fitted[idx] - x0)[:, None]  # (F, C, 74)
    rep = len(RELAX_FRACTIONS)
    candidates = _unflatten(xs.reshape(-1, x0.shape[1]), sub.right.bones.repeat_interleave(rep, 0),
                            sub.left.bones.repeat_interleave(rep, 0))
    with torch.no_grad():
        apart = (_intersection(net, candidates, settings, weights) < QUIET_LOSS).reshape(-1, rep)
    best = xs[torch.arange(len(idx), device=xs.device), apart.to(torch.uint8).argmax(1)]  # fractions fall
    x = torch.where(apart.any(1)[:, None], best, x0)
    chosen, out = _unflatten(x, sub.right.bones, sub.left.bones), pair.detach()
    for src, dst in ((chosen.right, out.right), (chosen.left, out.left)):
        for name in POSE_FIELDS:
            getattr(dst, name)[idx] = getattr(src, name)
    return out


def _intersection(net, pair: PairParams, settings, weights, joints=None, verts=None, frames=None) -> torch.Tensor:
    """(N,) intersection term of the settings' variant (posing the plain meshes when it needs them);
    frames (N,) bool: evaluate only these (the others get 0)."""
    if settings.point_set == "mesh" and verts is None:
        joints, verts = pair.joints_and_vertices()
    elif joints is None:
        joints = pair.joints()
    return intersection_term(net, joints, settings.point_set, settings.both_hands, verts, weights.margin_logit,
                             frames=frames)


def _energy(net, pair, initial, keypoints, K, settings, weights, frames=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(N,) data terms and (N,) intersection term (0 for frames not in `frames`, when given), unweighted."""
    use_mesh = settings.weight > 0 and settings.point_set == "mesh"
    joints, verts = pair.joints_and_vertices(_touching(frames)) if use_mesh else (pair.joints(), None)
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


def _clamp(pair: PairParams) -> None:
    with torch.no_grad():
        pair.right.angles.copy_(clamp_angles(pair.right.angles))
        pair.left.angles.copy_(clamp_angles(pair.left.angles))


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
