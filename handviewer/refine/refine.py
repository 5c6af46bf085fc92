"""Per-frame refinement: move both hands' poses (bone lengths and palm layout held) to resolve
intersections while staying true to the 2D keypoints and the initial 3D estimate.

Minimises  weight * intersection loss + reprojection error + distance to the initial estimate,
each frame on its own, with joint limits enforced by projection after every step:
1. the data terms alone (Levenberg-Marquardt);
2. the frames whose hands touch are parted, placement first: (a) a line search moves both hands'
   rotation and translation down the intersection gradient, as little as parts them (in legs of a
   few millimetres, each along the gradient where it starts); (b) frames it cannot part go to Adam,
   on placement for PLACEMENT_SHARE of the steps, then on the finger joints too, at a lower rate.
   Soft contact is allowed: the loss tests each vertex `settings.contact_mm` inside its own hand's
   surface, so hands pressed together by less than that are not pushed;
3. the relax: frames pushed by Adam, or by a search of more than one leg, move back towards the
   data fit as far as the hands stay apart (a line search);
then the exact metrics (`intersect.resolved`) check the moved frames, and those still intersecting
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
from handviewer.hand.pair import PairParams, RigidPair
from handviewer.hand.params import HandParams, clamp_angles, limits
from handviewer.hand.subject import SHAPE_ANGLES
from handviewer.hand.template import NUM_ANGLES, PALM_SLICE
from handviewer.intersect import boxes_overlap
from handviewer.intersect.loss import hand_features
from handviewer.intersect.names import SURFACE_SETS
from handviewer.optim import Adam
from handviewer.pipeline.settings import RefineSettings
from handviewer.refine.energy import (
    EnergyWeights, data_residuals, data_terms, frame_confidence, intersection_term, reprojection_term,
)

# Parameter groups in the order safe mode visits them (bone lengths are held throughout).
SAFE_GROUPS = (("trans",), ("rot",), ("angles",))
# Pose parameters of one hand, in the order of the flat vectors `fit_data_terms` optimises.
POSE_FIELDS = ("rot", "trans", "angles")
# The placement (rotation, translation) of the right hand, then of the left, in those flat vectors.
_PLACEMENT = tuple(range(6)) + tuple(range(6 + NUM_ANGLES, 12 + NUM_ANGLES))
_NOT_PLACEMENT = tuple(sorted(set(range(2 * (6 + NUM_ANGLES))) - set(_PLACEMENT)))
# Levenberg-Marquardt iterations of the data fit (each one batched FK call); it converges in 3-8.
DATA_FIT_ITERATIONS = 12
# A frame's data fit stops when an iteration changes its cost by less than this share: past that,
# LM crawls along the joint limits (10 sample frames from 2D keypoints: 30.8 ms instead of 49.7 at
# LM's default 1e-5, each frame's energy within 0.3 %; real hands in contact, bench_contact.py, 290
# variants: MPJPE after 7.81 / 7.78 / 7.76 mm at 1e-3 / 1e-4 / 1e-5, the same within run-to-run noise).
DATA_FIT_TOLERANCE = 1e-3
# After the intersection steps, a pushed frame moves back towards its data fit as far as its hands
# stay apart: a search over these fractions of the way (one network call), then RELAX_REFINE more
# between the best one and the next (`_relax`).
RELAX_FRACTIONS = (1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125)
RELAX_REFINE = 3
# Placement search (`_placement_search`): touching frames move their hands' placement down the
# intersection gradient by these RMS joint displacements (mm; one network call for all), then
# SEARCH_REFINE halvings between the first that parts the hands and the one before; a frame that
# none parts moves the last and goes again from there (a new gradient), SEARCH_LEGS times at most.
SEARCH_STEPS_MM = (1.0, 2.0, 4.0, 8.0)
SEARCH_REFINE = 3
SEARCH_LEGS = 4
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
    (Levenberg-Marquardt); the frames whose hands touch parted by a line search on their placement,
    or by Adam where it cannot (at most `settings.steps` steps a round); those frames back towards
    their data fit as far as their hands stay apart; frames the exact metrics still call
    intersecting go round again.
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
    # 2. The frames whose hands touch apart: their placement by a line search, and those it cannot
    # part by Adam, each until it no longer touches; 3. back towards the data fit as far as the hands
    # stay apart. The network's verdict is approximate near the surface: a
    # frame that the exact metrics still call intersecting goes round again with half the inset.
    # Only frames that intersect by the one rule are pushed: soft contact (real hands pressed together)
    # is left as the data fit put it, however the network sees it near the surface.
    todo, total, parted = _intersecting_near(pair), 0, 0
    for round_ in range(EXACT_ROUNDS):
        if not bool(todo.any()):
            break
        # Placement first, by a line search: most frames come apart by moving the hands along one
        # direction, at the cost of a few network calls instead of an Adam step per millimetre.
        yield 0.0, f"refining: moving the hands of {int(todo.sum())} frame(s) apart"
        pair, touching, placed = _placement_search(net, pair, fitted, settings, weights, todo)
        parted += int(placed.sum())
        pushed = placed
        if bool((touching & ~placed).any()):  # the rest: Adam, the joints too if need be, then the relax
            pair, touched, steps = yield from _push_and_relax(net, pair, fitted, initial, keypoints, K, settings,
                                                              weights, touching & ~placed)
            total += steps
            pushed = pushed | touched
        if round_ + 1 == EXACT_ROUNDS or settings.point_set not in SURFACE_SETS:
            break
        # The moved frames again by the exact rule: near the surface the network can miss an overlap
        # altogether (a vertex just deeper than the inset, fingers crossing). Frames the network saw
        # no contact in have not moved and still intersect.
        todo = (todo & ~pushed) | _intersecting_near(pair, pushed)
        # Again with half the inset, and the faces' centres too (crossing fingers may overlap with no
        # vertex inside the other hand).
        settings = replace(settings, contact_mm=0.5 * settings.contact_mm, point_set="surface")
    yield 1.0, f"refining: done ({parted} parted by the placement search, {total} Adam steps)"
    return pair.detach()


def _push_and_relax(net, pair: PairParams, fitted, initial, keypoints, K, settings, weights, frames: torch.Tensor):
    """Stages 2b and 3 of `refine` on `frames` ((N,) bool) alone, as a batch of their own (the
    others would only ride along masked, at a cost): Adam until each frame's hands are apart, then
    the relax towards its data fit. Yields progress; returns (pair, touched (N,) bool: the frames
    pushed, steps taken)."""
    idx = torch.nonzero(frames)[:, 0]
    sub = PairParams(pair.right[idx], pair.left[idx]).detach()
    pick = lambda t: t[idx] if t is not None else None  # noqa: E731
    sub, touched, live, done, steps = yield from _push_apart(net, sub, initial[idx], pick(keypoints), pick(K),
                                                             settings, weights)
    if bool(touched.any()):
        # Frames done earlier kept drifting on Adam's momentum (zero gradient, nonzero update): they
        # take their pose from the step they were done; frames still touching, their last.
        x = torch.where((touched & ~live)[:, None], done, _flatten(sub))
        sub = _relax(net, _unflatten(x, sub.right.bones.detach(), sub.left.bones.detach()), fitted[idx], touched,
                     settings, weights)
    out = torch.zeros_like(frames)
    out[idx] = touched
    return _put(pair, idx, _flatten(sub), sub), out, steps


def _intersecting_near(pair: PairParams, frames: torch.Tensor | None = None) -> torch.Tensor:
    """(N,) bool: frames (of `frames` (N,) bool, when given) whose hands' padded boxes overlap and
    whose meshes intersect by the exact rule."""
    with torch.no_grad():
        joints = pair.joints()
    near = boxes_overlap(joints[:, 0], joints[:, 1])
    return exact_intersecting(pair, near if frames is None else near & frames)


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
        volume = body.volume_mm3 / 1000.0
        if body.is_empty or is_intersecting(volume):  # the volume decides: no depths needed
            out[i] = not body.is_empty
            continue
        depth = penetration_depths(verts[k, 0], faces, verts[k, 1], faces_left)[1]
        out[i] = is_intersecting(volume, depth)
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
    opt = Adam(groups, eps=ADAM_EPS)
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
        # The palm layout that is a subject's shape (hand.subject.SHAPE_ANGLES) is held, like the bones:
        # pinned where it starts (low = high), so a shape held over a video stays held.
        low = torch.cat([-free, low]).expand(len(start), -1).clone()
        high = torch.cat([free, high]).expand(len(start), -1).clone()
        shape_cols = [6 + c for c in SHAPE_ANGLES]
        low[:, shape_cols] = high[:, shape_cols] = start[:, shape_cols].to(low.dtype)
        x = levenberg_marquardt(residuals, start, low, high, iterations, tolerance=DATA_FIT_TOLERANCE,
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
    x0 = _flatten(sub)
    return _put(pair, idx, _relaxed(_Line(net, x0, fitted[idx] - x0, (sub.right.bones, sub.left.bones), settings,
                                          weights)), sub)


def _relaxed(line: "_Line") -> torch.Tensor:
    """(F, D) each frame of `line` (from its pushed pose x0 towards its data fit at t = 1) as far
    along as its hands stay apart (`_relax`); x0 where no fraction of the way does."""
    grid = torch.tensor(RELAX_FRACTIONS, dtype=line.x0.dtype, device=line.x0.device).expand(len(line.x0), -1)
    ok = line.apart(grid)  # fractions fall: the first True is the largest
    found = ok.any(1)
    first = ok.to(torch.uint8).argmax(1)
    rows = torch.arange(len(line.x0), device=line.x0.device)
    good = torch.where(found, grid[rows, first], torch.zeros_like(grid[:, 0]))  # apart at `good`
    bad = (good + 1.0 / len(RELAX_FRACTIONS)).clamp(max=1.0)  # not apart there (or the end of the way)
    good = line.bisect(good, bad, found, RELAX_REFINE)
    return torch.where(found[:, None], line.at(good), line.x0)


def _placement_search(net, pair: PairParams, fitted: torch.Tensor, settings, weights, frames: torch.Tensor):
    """Stage 2a of `refine`: each of `frames` ((N,) bool) whose hands touch (intersection term >=
    QUIET_LOSS) moves its hands' placement (rotation and translation of both) down the intersection
    gradient until they no longer touch, as little as that takes: in legs of at most
    SEARCH_STEPS_MM[-1], each along the gradient where the leg starts (`_placement_direction`),
    trying SEARCH_STEPS_MM along it in one network call; in the leg where one parts the hands,
    SEARCH_REFINE halvings between it and the step before. At most SEARCH_LEGS legs; frames still
    touching then (deep overlaps that need the fingers moved) are left to the Adam push, from where
    they started. One gradient and one ladder call per leg, one call per halving, where the Adam
    push took a step of about a millimetre per call. A frame placed after more than one leg took a
    bent way out, and the way back towards its data fit (`fitted` (N, 84), see `_flatten`) may be
    shorter: it is relaxed (`_relax`). The hands are posed once: every call tests a rigid move of them
    (`_Posed`).
    Returns (pair, touching (N,) bool: touching at the start, placed (N,) bool: set apart here).
    """
    touching = torch.zeros_like(frames)
    placed, curved = touching.clone(), touching.clone()
    idx = torch.nonzero(frames)[:, 0]
    sub = PairParams(pair.right[idx], pair.left[idx]).detach()
    x = _flatten(sub)
    bones = (sub.right.bones, sub.left.bones)
    ladder = torch.tensor(SEARCH_STEPS_MM, dtype=x.dtype, device=x.device)
    active = torch.ones(len(idx), dtype=torch.bool, device=x.device)  # rows of `idx` still searching
    posed_all = _Posed.of(net, sub, settings)
    for leg in range(SEARCH_LEGS):
        rows = torch.nonzero(active)[:, 0]
        if len(rows) == 0:
            break
        posed = posed_all.rows(rows)
        rot, trans = (t.clone().requires_grad_(True) for t in _placement_of(x[rows]))
        inter = posed.intersection(net, torch.arange(len(rows), device=x.device), rot, trans, settings, weights)
        hot = inter.detach() >= QUIET_LOSS
        if leg == 0:
            touching[idx] = hot
        if not bool(hot.any()):  # (a later leg's start touches: its ladder said so)
            break
        grad = torch.autograd.grad(inter.sum(), (rot, trans))  # frames are independent: the sum's gradient is each one's
        g = torch.zeros_like(x[rows])
        g[:, _PLACEMENT] = torch.cat([grad[0][:, 0], grad[1][:, 0], grad[0][:, 1], grad[1][:, 1]], 1)
        step = _placement_direction((bones[0][rows], bones[1][rows]), x[rows], g)
        usable = hot & torch.isfinite(step).all(1) & (step.abs().sum(1) > 0)
        line = _Line(net, x[rows], torch.where(usable[:, None], step, torch.zeros_like(step)),
                     (bones[0][rows], bones[1][rows]), settings, weights, posed)
        steps = ladder.expand(len(rows), -1)
        ok = line.apart(steps) & usable[:, None]  # steps rise: the first True is the smallest
        found = ok.any(1)
        first = ok.to(torch.uint8).argmax(1)
        r = torch.arange(len(rows), device=x.device)
        good = torch.where(found, steps[r, first], steps[:, -1])  # not found: on to the leg's end
        bad = torch.where(first > 0, steps[r, (first - 1).clamp_min(0)], torch.zeros_like(good))
        good = line.bisect(good, bad, found, SEARCH_REFINE)
        x[rows] = torch.where(usable[:, None], line.at(good), x[rows])
        placed[idx[rows[found]]] = True
        curved[idx[rows[found]]] = leg > 0
        active[rows] = usable & ~found
    x = torch.where(placed[idx][:, None], x, _flatten(sub))  # frames not parted: back where they were
    bent = torch.nonzero(curved[idx])[:, 0]
    if len(bent):
        x[bent] = _relaxed(_Line(net, x[bent], fitted[idx[bent]] - x[bent], (bones[0][bent], bones[1][bent]),
                                 settings, weights, posed_all.rows(bent)))
    return _put(pair, idx, x, sub), touching, placed


def _placement_direction(bones: tuple[torch.Tensor, torch.Tensor], x0: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """(F, 84) the descent step -S^2 g in the placement parameters (0 elsewhere), S = the push's
    learning rates (_LR: 0.01 rad of rotation counts as much as 1 mm of translation, as in the Adam
    push), scaled so that a unit of it moves the joints by 1 mm RMS. g (F, 84): the intersection
    gradient (placement entries).

    Measured on real hands in contact (benchmarks/bench_contact.py, 60 variants): this direction
    resolves as many frames as the Adam push and lands as close to the truth (MPJPE 8.36 vs 8.28 mm);
    the descent in the metric of the data terms (the move that parts the hands at the least cost in
    reprojection and distance to the estimate) landed further (9.50 mm: it favours depth, which the
    2D keypoints do not see), and in the joints' own metric further still (10.94 mm)."""
    scale = torch.tensor([_LR["rot"]] * 3 + [_LR["trans"]] * 3, dtype=x0.dtype, device=x0.device).repeat(2)
    step = torch.zeros_like(x0)
    step[:, _PLACEMENT] = -scale.square() * g[:, _PLACEMENT]
    # The step's length by a forward difference, in float64 and on a step of at most 1 (rad or mm) a
    # parameter: a small gradient's step, differenced in float32 on joints a metre from the camera,
    # moved them by less than their rounding, and its "1 mm" unit became kilometres (a real contact
    # variant was sent 230 km away).
    step = step / step.abs().amax(1, keepdim=True).clamp_min(1e-30)
    h = 1e-3
    bones = (bones[0].double(), bones[1].double())
    x = x0.double()
    with torch.no_grad():
        moved = _unflatten(x + h * step.double(), *bones).joints() - _unflatten(x, *bones).joints()
    rms = ((moved.square().sum((-1, -2, -3)) / 42).sqrt() / h).to(step.dtype)
    return step / rms.clamp_min(1e-12)[:, None]


class _Posed:
    """Both hands of F frames posed once, with their occupancy encodings, so that placements of the
    same hands (rotation and translation changed, nothing else) are tested by moving the posed
    points rigidly (`hand.pair.RigidPair`): a line search over placements then costs, per candidate,
    the decoder alone, not posing, skinning and encoding it (each about as much as the decoder)."""

    def __init__(self, body: RigidPair, features: torch.Tensor) -> None:
        self.body, self.features = body, features  # features (F, 2, feature)

    @classmethod
    def of(cls, net, pair: PairParams, settings) -> "_Posed":
        surface = _surface_options(settings)
        body = RigidPair.pose(pair, surface is not None, **(surface or {}))
        with torch.no_grad():
            return cls(body, hand_features(net, body.joints[:, 0], body.joints[:, 1]))

    def rows(self, idx: torch.Tensor) -> "_Posed":
        return _Posed(self.body.rows(idx), self.features[idx])

    def intersection(self, net, frame: torch.Tensor, rot: torch.Tensor, trans: torch.Tensor, settings,
                     weights) -> torch.Tensor:
        """(M,) the intersection term of frames `frame` ((M,) long) with their hands placed at rot,
        trans ((M, 2, 3); differentiable)."""
        joints, points = self.body.at(frame, rot, trans)
        return intersection_term(net, joints, settings.point_set, settings.both_hands, points, weights.margin_logit,
                                 features=self.features[frame])


def _placement_of(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat poses (M, 84) (see `_flatten`) -> rot, trans (M, 2, 3) of the right and the left hand."""
    half = x.shape[1] // 2
    return (torch.stack([x[:, 0:3], x[:, half : half + 3]], 1), torch.stack([x[:, 3:6], x[:, half + 3 : half + 6]], 1))


class _Line:
    """Poses along straight lines in the flat parameters (`_flatten`), x0 + t * direction, F frames
    at a time, and whether their hands are apart there (intersection term < QUIET_LOSS). Lines that
    change the placements alone are tested by rigid moves of the hands posed once (`_Posed`: given,
    posed at any placement of the same hands, or posed here at x0), the others by posing each
    candidate. A given `posed` must hold x0's rows with x0's angles and bones (nothing checks it: the
    search passes the body it posed at its start, whose hands only its placements change)."""

    def __init__(self, net, x0: torch.Tensor, direction: torch.Tensor, bones, settings, weights,
                 posed: _Posed | None = None) -> None:
        self.net, self.x0, self.direction, self.bones = net, x0, direction, bones
        self.settings, self.weights = settings, weights
        rigid = not bool(direction[:, _NOT_PLACEMENT].any())
        if rigid and posed is None and len(x0):
            posed = _Posed.of(net, _unflatten(x0, *bones), settings)
        self.posed = posed if rigid else None

    def at(self, t: torch.Tensor) -> torch.Tensor:
        """t (F,) -> (F, D) poses."""
        return self.x0 + t[:, None] * self.direction

    def apart(self, t: torch.Tensor) -> torch.Tensor:
        """t (F, C) -> (F, C) bool: whether the hands are apart at x0 + t * direction (one network call)."""
        xs = (self.x0[:, None] + t[..., None] * self.direction[:, None]).reshape(-1, self.x0.shape[1])
        c = t.shape[1]
        with torch.no_grad():
            if self.posed is not None:
                frame = torch.arange(len(self.x0), device=xs.device).repeat_interleave(c)
                inter = self.posed.intersection(self.net, frame, *_placement_of(xs), self.settings, self.weights)
            else:
                candidates = _unflatten(xs, self.bones[0].repeat_interleave(c, 0), self.bones[1].repeat_interleave(c, 0))
                inter = _intersection(self.net, candidates, self.settings, self.weights)
        return (inter < QUIET_LOSS).reshape(-1, c)

    def bisect(self, good: torch.Tensor, bad: torch.Tensor, found: torch.Tensor, rounds: int) -> torch.Tensor:
        """(F,) the apart end `good` moved towards the touching end `bad` by `rounds` halvings, one
        network call each on the rows `found` ((F,) bool; the others stay as they are)."""
        rows = torch.nonzero(found)[:, 0]
        if len(rows) == 0 or rounds == 0:
            return good
        line = _Line(self.net, self.x0[rows], self.direction[rows], (self.bones[0][rows], self.bones[1][rows]),
                     self.settings, self.weights, self.posed.rows(rows) if self.posed is not None else None)
        g, b = good[rows], bad[rows]
        for _ in range(rounds):
            mid = 0.5 * (g + b)
            mid_ok = line.apart(mid[:, None])[:, 0]
            g, b = torch.where(mid_ok, mid, g), torch.where(mid_ok, b, mid)
        good = good.clone()
        good[rows] = g
        return good


def _put(pair: PairParams, idx: torch.Tensor, x: torch.Tensor, sub: PairParams) -> PairParams:
    """A copy of `pair` whose rows `idx` take the poses x (F, D) (bones from `sub`)."""
    chosen, out = _unflatten(x, sub.right.bones, sub.left.bones), pair.detach()
    for src, dst in ((chosen.right, out.right), (chosen.left, out.left)):
        for name in POSE_FIELDS:
            getattr(dst, name)[idx] = getattr(src, name)
    return out


def _surface_options(settings) -> dict | None:
    """`PairParams.joints_and_vertices`'s options for the settings' point set when it needs the mesh
    surface posed (None: the joints alone do): its inset and whether it takes face centres."""
    if settings.point_set not in SURFACE_SETS:
        return None
    return {"inset_mm": settings.contact_mm, "face_centres": settings.point_set == "surface"}


def _intersection(net, pair: PairParams, settings, weights, joints=None, verts=None, frames=None) -> torch.Tensor:
    """(N,) intersection term of the settings' variant (posing the plain meshes when it needs them);
    frames (N,) bool: evaluate only these (the others get 0)."""
    surface = _surface_options(settings)
    if surface is not None and verts is None:
        joints, verts = pair.joints_and_vertices(**surface)
    elif joints is None:
        joints = pair.joints()
    return intersection_term(net, joints, settings.point_set, settings.both_hands, verts, weights.margin_logit,
                             frames=frames)


def _energy(net, pair, initial, keypoints, K, settings, weights, frames=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(N,) data terms and (N,) intersection term (0 for frames not in `frames`, when given), unweighted."""
    surface = _surface_options(settings) if settings.weight > 0 else None
    joints, verts = (pair.joints_and_vertices(_touching(frames), **surface) if surface is not None
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
        opt = Adam([{"params": [t], "lr": _LR[n]} for t, n in zip(tensors, group * 2)])
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
