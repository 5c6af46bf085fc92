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
from handviewer.hand.params import HandParams, clamp_angles
from handviewer.pipeline_api import RefineSettings
from handviewer.refine.energy import FLIP, EnergyWeights, data_terms, intersection_term, reprojection_term  # noqa: F401

# Parameter groups in the order safe mode visits them (bone lengths are held throughout).
SAFE_GROUPS = (("trans",), ("rot",), ("angles",))
_LR = {"trans": 1.0, "rot": 0.01, "angles": 0.02}
SAFE_BUDGET_MM = 5.0
# A frame whose intersection term is below QUIET_LOSS (e.g. 10 points at p = 0.01) counts as not
# touching; it is re-checked every QUIET_CHECK_EVERY steps (a step moves a hand about 1 mm).
QUIET_LOSS = 1e-3
QUIET_CHECK_EVERY = 5
# Refinement ends early when no frame touches and no frame's data terms changed by more than this
# since the last check (the terms are about 1 for a typical error, 1e-3 is ~0.3 mm or ~0.3 px). A
# change either way counts: Adam's first steps move every parameter by about one learning rate, so
# data terms that start near their minimum rise before they fall.
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
        return torch.stack([j[:n], j[n:] * FLIP.to(j)], 1)

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
        n, flip = pose.joints.shape[0] // 2, FLIP.to(pose.joints)
        joints = torch.stack([pose.joints[:n], pose.joints[n:] * flip], 1)
        rig = _plain_rig(self.right.angles.dtype)
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
    Stops before `settings.steps` when no frame's hands touch and the data terms have settled.
    """
    weights = weights or EnergyWeights(intersection=settings.weight)
    if weights.intersection != settings.weight:
        weights = EnergyWeights(**{**weights.__dict__, "intersection": settings.weight})
    with torch.no_grad():
        initial = start.joints()
    if settings.safe_mode:
        return (yield from _refine_safe(net, start, initial, keypoints, K, settings, weights))
    pair = start.detach()
    names = ("trans", "rot", "angles")
    tensors = [getattr(h, n).requires_grad_(True) for h in (pair.right, pair.left) for n in names]
    groups = [{"params": [t], "lr": _LR[n]} for t, n in zip(tensors, names * 2)]
    opt = torch.optim.Adam(groups)
    touched = torch.zeros(len(initial), dtype=torch.bool, device=initial.device)
    last_check = None
    for step in range(settings.steps):
        # Only frames whose intersection term has reached QUIET_LOSS at a check (every
        # QUIET_CHECK_EVERY steps and at the last step) are pushed by it, from then on at every
        # step. Adam scales any gradient to about one learning rate per step, so the tiny term of
        # hands that nearly touch would otherwise move them millimetres for nothing; and until they
        # touch, such frames cost only their data terms between checks.
        check = step % QUIET_CHECK_EVERY == 0 or step == settings.steps - 1
        opt.zero_grad(set_to_none=True)
        data, inter = _energy(net, pair, initial, keypoints, K, settings, weights, None if check else touched)
        if check:
            touched = touched | (inter.detach() >= QUIET_LOSS)
            # Hands apart or merely close: once the data terms have settled there is nothing left to
            # do (3D input without 2D keypoints starts settled), so the remaining steps are skipped.
            if last_check is not None and not touched.any() and float((last_check - data.detach()).abs().max()) < SETTLED_CHANGE:
                yield 1.0, f"refining: settled after {step} steps"
                break
            last_check = data.detach()
        (data + weights.intersection * torch.where(touched, inter, 0.0)).sum().backward()
        opt.step()
        _clamp(pair)
        yield (step + 1) / max(settings.steps, 1), f"refining: step {step + 1}/{settings.steps}"
    return pair.detach()


def _plain_rig(dtype):
    from handviewer.hand.mesh import MeshRig
    from handviewer.hand.model import topology

    key = str(dtype)
    if key not in _RIGS:
        _RIGS[key] = MeshRig(topology("plain"), dtype=dtype)
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
