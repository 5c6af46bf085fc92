"""Per-frame refinement: move both hands' poses (bone lengths held) to resolve intersections while
staying true to the 2D keypoints and the initial 3D estimate.

Minimises  weight * intersection loss + reprojection error + distance to the initial estimate
(+ temporal smoothness), with joint limits enforced by projection after every step. "Safe" mode
(after IHMR) optimises one parameter group at a time and keeps a group's change for a frame only
if the intersection loss went down, the reprojection error (when 2D keypoints are given) did not go
up, and the hands stay within `SAFE_BUDGET_MM` (mean joint displacement) of the initial estimate.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, fields

import torch

from handviewer.hand.kinematics import Pose, forward_kinematics
from handviewer.hand.lm import levenberg_marquardt
from handviewer.hand.params import HandParams, clamp_angles, limits
from handviewer.pipeline.settings import RefineSettings
from handviewer.device_constants import flip_x
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
# touching; with the temporal term (every frame moves) all frames are re-checked every
# QUIET_CHECK_EVERY steps (a step moves a hand about 1 mm).
QUIET_LOSS = 1e-3
QUIET_CHECK_EVERY = 5
# With the temporal term (which the data fit leaves out), refinement ends early when no frame touches
# and no frame's data terms changed by more than this since the last check (the terms are about 1
# for a typical error, 1e-3 is ~0.3 mm or ~0.3 px). A change either way counts: Adam's first steps
# move every parameter by about one learning rate, so terms that start near their minimum rise first.
SETTLED_CHANGE = 1e-3


@dataclass
class PairParams:
    """Both hands of N frames; the left hand is the mirrored right hand `left` (see HandParams)."""

    right: HandParams
    left: HandParams

    def _pose_both(self):
        """Forward kinematics of the right hands and the (unmirrored) left hands in one batched call:
        (2N, ...) Pose, rights first. One call instead of two halves the small torch ops per step."""
        both = HandParams(**{k: torch.cat([v, getattr(self.left, k)]) for k, v in self.right.tensors().items()})
        return forward_kinematics(both)

    def joints(self) -> torch.Tensor:
        """(N, 2, 21, 3) mm, camera frame."""
        j = self._pose_both().joints
        n = j.shape[0] // 2
        return torch.stack([j[:n], j[n:] * flip_x(j)], 1)

    def joints_and_vertices(self, touching_only: bool = False, frames: torch.Tensor | None = None
                            ) -> tuple[torch.Tensor, torch.Tensor]:
        """((N, 2, 21, 3), (N, 2, V, 3)) mm: joints and `plain`-mesh vertices, camera frame.

        touching_only: pose the vertices only of frames whose hands' padded boxes overlap (the
        intersection loss skips the others), and only of `frames` ((N,) bool) when given; the
        others' are left 0. Most frames of a video have the hands apart, and posing vertices costs
        more than the joints.
        """
        from handviewer.hand.mesh import pose_vertices
        from handviewer.intersect import boxes_overlap

        pose = self._pose_both()
        n, flip = pose.joints.shape[0] // 2, flip_x(pose.joints)
        joints = torch.stack([pose.joints[:n], pose.joints[n:] * flip], 1)
        rig = _plain_rig(self.right.angles.dtype, self.right.angles.device)
        if touching_only:
            with torch.no_grad():
                near = boxes_overlap(joints[:, 0], joints[:, 1])
                near = near & frames if frames is not None else near
            rows = torch.nonzero(torch.cat([near, near]))[:, 0]
            some = Pose(**{f.name: getattr(pose, f.name)[rows] for f in fields(Pose)})
            v = pose.joints.new_zeros(2 * n, rig.offset.shape[0], 3).index_put((rows,), pose_vertices(some, rig))
        else:
            v = pose_vertices(pose, rig)
        verts = torch.stack([v[:n], v[n:] * flip], 1)
        return joints, verts

    def detach(self) -> "PairParams":
        return PairParams(self.right.map(lambda t: t.detach().clone()), self.left.map(lambda t: t.detach().clone()))


def refine(
    net,
    start: PairParams,
    keypoints: torch.Tensor | None,
    K: torch.Tensor | None,
    settings: RefineSettings,
    weights: EnergyWeights | None = None,
) -> Generator[tuple[float, str], None, PairParams]:
    """Refine N frames at once (each frame's energy is independent unless `weights.temporal` > 0).

    start: initial parameters (both hands present in every frame; frames with a missing hand should
    not be passed). keypoints (N, 2, 21, 3) px + confidence or None; K (N, 3, 3) or None.
    Yields progress; closing the generator stops at the next step. Returns the refined parameters.
    Three stages: the data terms alone (Levenberg-Marquardt), Adam on the frames whose hands touch,
    each until its hands are apart (at most `settings.steps` steps), then those frames back towards
    their data fit as far as their hands stay apart.
    """
    weights = weights or EnergyWeights(intersection=settings.weight)
    if weights.intersection != settings.weight:
        weights = EnergyWeights(**{**weights.__dict__, "intersection": settings.weight})
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
    # 2. Adam on the frames whose hands touch, each until it no longer does. Every frame now sits at the minimum
    # of its data terms (the temporal term aside), so only those have anything left to do, and only
    # they enter the energy: Adam moves a parameter by about one learning rate per step whatever the
    # size of its gradient, so even the ~0 data gradient of a settled frame would jitter it, while an
    # exactly zero gradient leaves it in place.
    everyone = weights.temporal > 0  # the temporal term couples neighbours: every frame moves
    touched = torch.zeros(len(initial), dtype=torch.bool, device=initial.device)
    live = touched.clone()  # without the temporal term: touched and not yet apart
    done = fitted.clone()  # without it: each frame's pose at the first step its hands were apart
    tensors = [getattr(h, n).requires_grad_(True) for h in (pair.right, pair.left) for n in POSE_FIELDS]
    opt = torch.optim.Adam([{"params": [t], "lr": _LR[n]} for t, n in zip(tensors, POSE_FIELDS * 2)])
    last_check, steps = None, 0
    for step in range(settings.steps):
        # Which frames touch (intersection term >= QUIET_LOSS) is checked for all frames at step 0;
        # those are pushed from then on and the others, which do not move, never enter the network
        # again. Adam would move hands that merely nearly touch millimetres for the tiny term, hence
        # the threshold. With the temporal term every frame moves: all are checked every
        # QUIET_CHECK_EVERY steps, and pushed from the first check at which they touch.
        check = step == 0 or (everyone and (step % QUIET_CHECK_EVERY == 0 or step == settings.steps - 1))
        opt.zero_grad(set_to_none=True)
        data, inter = _energy(net, pair, initial, keypoints, K, settings, weights,
                              None if check else touched if everyone else live)
        touching = inter.detach() >= QUIET_LOSS
        if check:
            touched = touched | touching
            live = live | touching
        if not everyone:
            # A frame is done at the first step its hands no longer touch: further steps could only
            # trade its data terms against an intersection term that is already ~0 (stage 3 does
            # that faster). Frames are independent (Adam is elementwise), so each stops on its own
            # and a batch gives each frame what refining it alone would.
            apart = live & ~touching
            done = torch.where(apart[:, None], _flatten(pair), done)
            live = live & touching
            if not live.any():
                break
        elif check:  # the temporal term, which the data fit leaves out, must also have settled
            if last_check is not None and float((last_check - data.detach()).abs().max()) < SETTLED_CHANGE and not touching.any():
                break
            last_check = data.detach()
        pushed = weights.intersection * torch.where(touched, inter, 0.0)
        (data + pushed if everyone else torch.where(live, data + pushed, 0.0)).sum().backward()
        opt.step()
        _clamp(pair)
        steps = step + 1
        yield steps / max(settings.steps, 1), f"refining: step {steps}/{settings.steps}"
    # 3. Adam's push moves every parameter, more than resolving the contact needs: take the pushed
    # frames back towards their data fit as far as their hands stay apart.
    if not everyone and bool(touched.any()):
        # Frames done earlier kept drifting on Adam's momentum (zero gradient, nonzero update):
        # they take their pose from the step they were done; frames still touching, their last.
        x = torch.where((touched & ~live)[:, None], done, _flatten(pair))
        pair = _relax(net, _unflatten(x, pair.right.bones.detach(), pair.left.bones.detach()), fitted, touched,
                      settings, weights)
    yield 1.0, f"refining: done after {steps} steps"
    return pair.detach()


def fit_data_terms(pair: PairParams, initial: torch.Tensor, keypoints: torch.Tensor | None, K: torch.Tensor | None,
                   weights: EnergyWeights, iterations: int = DATA_FIT_ITERATIONS) -> PairParams:
    """Each frame's pose (both hands, bone lengths held) at the minimum of its data terms: the
    reprojection error to the keypoints and the distance to `initial` (N, 2, 21, 3) mm; within the
    joint limits. keypoints (N, 2, 21, 3) px + confidence, K (N, 3, 3) px.

    Without the temporal term a frame's data terms are a sum over its two hands, so each hand is
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


def _plain_rig(dtype, device):
    """The plain mesh's rig on `device` in `dtype`, built once per pair."""
    from handviewer.hand.mesh import MeshRig
    from handviewer.hand.model import topology

    key = (str(dtype), str(device))
    if key not in _RIGS:
        _RIGS[key] = MeshRig(topology("plain"), device=device, dtype=dtype)
    return _RIGS[key]


_RIGS: dict = {}


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
    use_mesh = weights.intersection > 0 and settings.point_set == "mesh"
    joints, verts = pair.joints_and_vertices(touching_only=True, frames=frames) if use_mesh else (pair.joints(), None)
    e = data_terms(joints, initial, keypoints, K, weights)
    inter = torch.zeros_like(e)
    if weights.intersection > 0:
        inter = _intersection(net, pair, settings, weights, joints, verts, frames)
    return e, inter


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
            (data + weights.intersection * inter).sum().backward()
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
