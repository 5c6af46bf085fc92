"""Inverse kinematics: hand parameters from 3D joints (batched, torch).

Two stages. (1) An exact analytic solve: the palm rotation by Kabsch on the five palm bones,
then each finger's angles by atan2 down its chain, clamped to the joint limits at each joint
before the next one is solved, so out-of-limit targets give the nearest legal finger, never a
twisted one. On targets the model can reach this is exact. (2) For noisy or partial targets, a
least-squares polish of all parameters within the joint limits: Levenberg-Marquardt (`hand.lm`)
for batches up to LM_MAX_BATCH hands, projected Adam beyond (LM's finite differences cost 20 FK
evaluations per hand and iteration, the five fingers probed together: cheaper than 60 Adam steps in
torch calls, dearer in arithmetic, which is what counts for large batches). Neither makes a fit
worse than stage 1.
"""

from __future__ import annotations

import numpy as np
import torch

from handviewer.hand import template as T
from handviewer.hand.kinematics import forward_kinematics, joints_moved_by
from handviewer.hand.lm import levenberg_marquardt
from handviewer.hand.params import HandParams, clamp_angles, limits
from handviewer.hand.rotations import direction_to_flex_abd, flex_abd, kabsch, matrix_to_axis_angle, rot_x, rot_y
from handviewer.hand.skeleton import BONES, FINGER_BASES
from handviewer.hand.subject import SHAPE_ANGLES
from handviewer.optim import Adam, cosine_lr

_PALM_BONES = [0, 4, 8, 12, 16]
# Batches up to this many hands are polished by Levenberg-Marquardt, larger ones by Adam (noisy
# targets, 1 thread, fingers probed together: batch 1 24 vs 226 ms, batch 32 197 vs 273 ms with a
# lower residual; batch 1,000 6.3 s vs 1.8 s: benchmarks/bench_hand.py).
LM_MAX_BATCH = 32
LM_ITERATIONS = 15
# Difference the five fingers together (they move disjoint joints: `kinematics.joints_moved_by`):
# 19 probes per hand instead of 63. False: one probe per parameter (the benchmark's baseline).
LM_SPARSE_JACOBIAN = True


MAX_COORDINATE_MM = 1e9  # 1,000 km: anything beyond is not a hand in mm


def fit_ik(
    joints,
    bones=None,
    valid=None,
    iterations: int = 60,
    device=None,
    dtype=torch.float32,
    palm=None,
    shape=None,
) -> tuple[HandParams, torch.Tensor]:
    """Fit right-hand parameters to 3D joints.

    joints : (N, 21, 3) mm, array or tensor; NaN marks a missing joint.
    bones  : optional (N, 20) or (20,) mm bone lengths to hold fixed; fitted when None.
    palm   : optional (N, 4) or (4,) rad, the palm layout angles `subject.SHAPE_ANGLES` (index and
        middle metacarpal deviations) to hold fixed; fitted when None.
    shape  : optional `subject.HandShape`, a subject's bones and palm held together (the same as
        `bones=shape.bones, palm=shape.palm`; not with `bones` or `palm`).
    valid  : optional (N, 21) bool, False for joints to ignore (in addition to NaN ones).
    iterations: polishing steps after the analytic solve (0 = analytic only); for batches up to
        LM_MAX_BATCH, at most LM_ITERATIONS Levenberg-Marquardt iterations (it converges in ~10).
    Returns (params, residual_mm (N, 21): distance of each fitted joint to its target, NaN where missing).
    For a left hand, fit the mirrored joints (`skeleton.mirror_x`).
    """
    target = torch.as_tensor(np.asarray(joints) if not torch.is_tensor(joints) else joints, dtype=dtype, device=device)
    if target.ndim != 3 or target.shape[1:] != (21, 3):
        raise ValueError(f"joints must have shape (N, 21, 3), got {tuple(target.shape)}")
    mask = torch.isfinite(target).all(-1)
    if valid is not None:
        mask &= torch.as_tensor(valid, dtype=torch.bool, device=target.device)
    target = torch.where(mask[..., None], target, torch.zeros_like(target))
    huge = torch.isfinite(target) & (target.abs() > MAX_COORDINATE_MM)  # the SVD fails long before inf
    if bool(huge.any()):
        raise ValueError(f"joints must be mm within {MAX_COORDINATE_MM:g} of the origin, got up to "
                         f"{float(target[huge].abs().max()):.3g}")
    if shape is not None:
        if bones is not None or palm is not None:
            raise ValueError("give either shape or bones/palm, not both")
        bones, palm = shape.bones, shape.palm
    fixed = None
    if bones is not None:
        fixed = torch.as_tensor(bones, dtype=dtype, device=target.device).expand(target.shape[0], 20).clone()
        if not bool(torch.isfinite(fixed).all() and (fixed >= 0).all()):
            raise ValueError("bones must be finite lengths >= 0 mm (N, 20) or (20,)")
    held = _held_palm(palm, target) if palm is not None else None

    with torch.no_grad():
        params = analytic_ik(target, mask, fixed, held)
    bounds = _angle_bounds(held, len(target), target.device) if held is not None else None
    if iterations > 0 and len(target) <= LM_MAX_BATCH:
        params = _polish_lm(params, target, mask, fixed is not None, min(iterations, LM_ITERATIONS), bounds)
    elif iterations > 0:
        with torch.enable_grad():  # callers may run under no_grad; the gradient stage needs autograd
            params = _refine(params, target, mask, fixed is not None, iterations, bounds)
    with torch.no_grad():
        fitted = forward_kinematics(params).joints
        residual = (fitted - target).norm(dim=-1)
        residual = torch.where(mask, residual, torch.full_like(residual, float("nan")))
    return params.detach(), residual


def analytic_ik(target: torch.Tensor, mask: torch.Tensor, fixed_bones: torch.Tensor | None = None,
                fixed_palm: torch.Tensor | None = None) -> HandParams:
    """Exact solve for reachable targets; target (N, 21, 3) mm with zeros where `mask` (N, 21) is False.
    fixed_bones (N, 20) mm and fixed_palm (N, 4) rad (`subject.SHAPE_ANGLES`): a shape to hold; the
    hand frame is then found from the subject's own index and middle metacarpal directions."""
    n, dtype, dev = target.shape[0], target.dtype, target.device
    const = lambda x: torch.as_tensor(x, dtype=dtype, device=dev)  # noqa: E731
    bones = fixed_bones if fixed_bones is not None else _bone_lengths(target, mask)
    rest = const(T.PALM_REST_FRAMES)
    rest_dirs = const(T.PALM_DIRECTIONS).expand(n, 5, 3)
    if fixed_palm is not None:
        rest_dirs = _palm_directions(fixed_palm, rest)

    # Wrist: given, else where the template palm fitted rigidly to the visible knuckles puts it.
    palm_joints = torch.as_tensor(FINGER_BASES, device=dev)
    trans = torch.where(mask[:, :1], target[:, 0], _wrist_from_palm(target, mask, bones, rest_dirs))
    palm_vec = target[:, palm_joints] - trans[:, None]  # (N, 5, 3)
    palm_ok = mask[:, palm_joints] & mask[:, :1]
    unit = palm_vec / palm_vec.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    rot0 = _hand_frame(unit, palm_ok, rest_dirs)  # (N, 3, 3)

    angles = torch.zeros(n, T.NUM_ANGLES, dtype=dtype, device=dev)
    local = (rest.transpose(-1, -2)[None] @ rot0.transpose(-1, -2)[:, None] @ unit[..., None])[..., 0]  # (N, 5, 3)
    flex, abd = direction_to_flex_abd(local)
    angles[:, 0:10:2] = torch.where(palm_ok, flex, 0.0)
    angles[:, 1:10:2] = torch.where(palm_ok, abd, 0.0)
    if fixed_palm is not None:
        angles[:, list(SHAPE_ANGLES)] = fixed_palm
    angles = clamp_angles(angles)
    palm = rot0[:, None] @ rest[None] @ flex_abd(angles[:, 0:10:2], angles[:, 1:10:2])  # (N, 5, 3, 3)

    for finger in range(5):
        angles = _solve_chain(finger, palm[:, finger], target, mask, angles)
    params = HandParams(rot=matrix_to_axis_angle(rot0), trans=trans, bones=bones, angles=angles)
    if not bool(mask[:, 0].all()):
        params = _place_wrist(params, target, mask)
    return params


def _wrist_from_palm(target: torch.Tensor, mask: torch.Tensor, bones: torch.Tensor,
                     dirs: torch.Tensor) -> torch.Tensor:
    """(N, 3) mm: wrist position from a rigid fit (Procrustes) of the template palm (bone directions
    `dirs` (N, 5, 3)) to the visible knuckles (thumb CMC and MCPs); the centroid of the visible joints
    where fewer than 3 are visible."""
    template = dirs * bones[:, _PALM_BONES, None]  # (N, 5, 3), wrist at the origin
    seen = target[:, FINGER_BASES]
    w = mask[:, FINGER_BASES].to(target.dtype)  # (N, 5)
    total = w.sum(-1, keepdim=True).clamp_min(1.0)
    c_template = (template * w[..., None]).sum(1) / total
    c_seen = (seen * w[..., None]).sum(1) / total
    rot = kabsch(template - c_template[:, None], seen - c_seen[:, None], w + 1e-6)
    wrist = c_seen - (rot @ c_template[..., None])[..., 0]
    wv = mask.to(target.dtype)[..., None]
    centroid = (target * wv).sum(1) / wv.sum(1).clamp_min(1.0)
    return torch.where((w.sum(-1) >= 3)[:, None], wrist, centroid)


def _hand_frame(unit: torch.Tensor, ok: torch.Tensor, rest_dirs: torch.Tensor) -> torch.Tensor:
    """(N, 3, 3) hand rotation from unit palm-bone directions (N, 5, 3); rest_dirs (N, 5, 3): where
    those bones point in the hand frame (the mean palm, or a subject's).

    Exact from the rigid palm (y to the middle MCP, index MCP in the x-y plane) when wrist, index
    and middle MCP are visible; otherwise Kabsch over whatever palm bones are visible.
    """
    y = unit[:, 2]
    x = unit[:, 1] - (unit[:, 1] * y).sum(-1, keepdim=True) * y
    x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    exact = torch.stack([x, y, torch.cross(x, y, dim=-1)], dim=-1)
    # The rest index direction is not along x: rotate by its in-plane angle so that rest maps to rest.
    ri, rm = rest_dirs[:, 1], rest_dirs[:, 2]  # (N, 3)
    rest_frame = torch.stack([ri - (ri * rm).sum(-1, keepdim=True) * rm, rm], 1)
    rest_frame = rest_frame / rest_frame.norm(dim=-1, keepdim=True)
    rest_frame = torch.stack([rest_frame[:, 0], rest_frame[:, 1], torch.cross(rest_frame[:, 0], rest_frame[:, 1], dim=-1)], -1)
    exact = exact @ rest_frame.transpose(-1, -2)
    weights = ok.to(unit.dtype) + 1e-6  # a tiny weight keeps the SVD defined when nothing is visible
    fallback = kabsch(rest_dirs, unit, weights)
    use_exact = (ok[:, 1] & ok[:, 2])[:, None, None]
    return torch.where(use_exact, exact, fallback)


def _solve_chain(finger, parent, target, mask, angles):
    """Angles of one finger's three joints, each clamped before the next is solved."""
    base = int(FINGER_BASES[finger])
    thumb = finger == 0
    col = [10, 11, 12, 13, 14] if thumb else [15 + 4 * (finger - 1) + k for k in range(4)]
    splay = 0.0 if thumb else float(T.FINGER_SPLAY[finger - 1])
    offset = torch.as_tensor(T.THUMB_REST_OFFSET, dtype=target.dtype, device=target.device)
    frame = parent
    for k in range(3):
        a, b = base + k, base + k + 1
        ok = mask[:, a] & mask[:, b]
        u = _local_direction(frame, target, a, b)
        if k == 0 and thumb:
            u = (offset.T @ u[..., None])[..., 0]
        two_dof = k == 0 or (thumb and k == 1)
        if two_dof:
            f, ab = direction_to_flex_abd(u)
            f_col, a_col = (col[2 * k], col[2 * k + 1]) if thumb else (col[0], col[1])
            angles[:, f_col] = torch.where(ok, f, 0.0)
            angles[:, a_col] = torch.where(ok, ab - splay, 0.0)
            angles = clamp_angles(angles)
            rot = flex_abd(angles[:, f_col], angles[:, a_col] + splay)
            if k == 0 and thumb:
                rot = offset @ rot
            if k == (1 if thumb else 0):  # the proximal phalanx: its twist aims the next hinge
                angles, rot = _solve_twist(finger, frame @ rot, rot, target, mask, angles, b)
        else:
            f_col = col[4] if thumb else col[k + 1]
            angles[:, f_col] = torch.where(ok, torch.atan2(u[:, 2], u[:, 1]), 0.0)
            angles = clamp_angles(angles)
            rot = rot_x(angles[:, f_col])
        frame = frame @ rot
    return angles


def _held_palm(palm, target: torch.Tensor) -> torch.Tensor:
    """(N, 4) rad: the palm layout angles to hold, checked to be finite and within the joint limits."""
    held = torch.as_tensor(palm, dtype=target.dtype, device=target.device)
    if held.shape not in ((len(SHAPE_ANGLES),), (target.shape[0], len(SHAPE_ANGLES))):
        raise ValueError(f"palm must have shape ({len(SHAPE_ANGLES)},) or (N, {len(SHAPE_ANGLES)}), got {tuple(held.shape)}")
    held = held.expand(target.shape[0], len(SHAPE_ANGLES)).clone()
    low, high = limits(target.device, target.dtype)
    cols = list(SHAPE_ANGLES)
    if not bool(torch.isfinite(held).all() and (held >= low[cols] - 1e-6).all() and (held <= high[cols] + 1e-6).all()):
        raise ValueError("palm angles must be finite and within the joint limits (rad)")
    return torch.maximum(torch.minimum(held, high[cols]), low[cols])


def _angle_bounds(held: torch.Tensor, n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """((N, 36), (N, 36)) rad: the joint limits with the held palm angles pinned (low = high)."""
    low, high = (b.to(held.dtype).expand(n, -1).clone() for b in limits(device, held.dtype))
    low[:, list(SHAPE_ANGLES)] = held
    high[:, list(SHAPE_ANGLES)] = held
    return low, high


def _palm_directions(palm: torch.Tensor, rest: torch.Tensor) -> torch.Tensor:
    """(N, 5, 3): the palm bones' directions in the hand frame with the index and middle metacarpals
    deviated by `palm` (N, 4) rad (`SHAPE_ANGLES`); the others at rest. rest: (5, 3, 3) rest frames."""
    dirs = rest[:, :, 1].expand(palm.shape[0], 5, 3).clone()
    for k, finger in enumerate((1, 2)):
        dirs[:, finger] = (rest[finger] @ flex_abd(palm[:, 2 * k], palm[:, 2 * k + 1]))[..., 1]
    return dirs


def _local_direction(frame: torch.Tensor, target: torch.Tensor, a: int, b: int) -> torch.Tensor:
    """(N, 3) unit direction from target joint a to joint b, in `frame` (N, 3, 3)."""
    d = target[:, b] - target[:, a]
    return (frame.transpose(-1, -2) @ (d / d.norm(dim=-1, keepdim=True).clamp_min(1e-6))[..., None])[..., 0]


# Below this sine of the bend at the next joint the finger is too straight for its hinge plane (and so its
# twist) to be seen in the targets: the twist fades to 0 (the polish may still set it).
_TWIST_VISIBLE_SIN = 0.17  # ~10 degrees


def _solve_twist(finger, frame, rot, target, mask, angles, joint):
    """The twist of a proximal phalanx (frame (N, 3, 3), ending at `joint`) that puts the next bone in
    its hinge plane (the frame's y-z plane), clamped; returns (angles, rot @ rot_y(twist))."""
    ok = mask[:, joint] & mask[:, joint + 1]
    u = _local_direction(frame, target, joint, joint + 1)
    bend = torch.hypot(u[:, 0], u[:, 2])  # sine of the angle between the bone and the next one
    # Turning by t takes x towards -z: the next bone's x component becomes c ux - s uz, 0 at tan t = ux / uz
    # (the solution within +-90 degrees, so that a hyperextended joint is not turned over).
    twist = torch.atan2(u[:, 0] * torch.sign(u[:, 2] + 1e-12), u[:, 2].abs())
    twist = twist * (bend / _TWIST_VISIBLE_SIN).clamp(max=1.0)
    col = T.TWIST_SLICE.start + finger
    angles[:, col] = torch.where(ok, twist, 0.0)
    angles = clamp_angles(angles)
    return angles, rot @ rot_y(angles[:, col])


def _bone_lengths(target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(N, 20) mm: measured where both ends are visible, else the mean scaled to the visible bones."""
    ends = torch.as_tensor(BONES, device=target.device)
    measured = (target[:, ends[:, 1]] - target[:, ends[:, 0]]).norm(dim=-1)
    ok = mask[:, ends[:, 0]] & mask[:, ends[:, 1]]
    mean = torch.as_tensor(T.MEAN_BONE_LENGTHS, dtype=target.dtype, device=target.device)
    ratio = torch.where(ok, measured / mean, torch.zeros_like(measured))
    count = ok.sum(-1, keepdim=True)
    scale = torch.where(count > 0, ratio.sum(-1, keepdim=True) / count.clamp_min(1), torch.ones_like(count, dtype=target.dtype))
    return torch.where(ok, measured, mean * scale)


def _place_wrist(params: HandParams, target, mask) -> HandParams:
    """Shift hands with a missing wrist so that their visible joints' centroid matches the target's."""
    fitted = forward_kinematics(params).joints
    w = mask.to(target.dtype)[..., None]
    shift = ((target - fitted) * w).sum(1) / w.sum(1).clamp_min(1.0)
    return HandParams(rot=params.rot, trans=params.trans + shift, bones=params.bones, angles=params.angles)


def _polish_lm(params: HandParams, target, mask, fixed_bones: bool, iterations: int, bounds=None) -> HandParams:
    """Levenberg-Marquardt on the mean squared error of the visible joints; bones >= 1 mm (or stage 1's length).
    bounds: optional per-hand angle limits ((N, 36), (N, 36)) rad (`_angle_bounds`), else the joint limits."""
    weight = (mask.double() / mask.double().sum(-1, keepdim=True).clamp_min(1.0)).sqrt()[..., None]
    goal, bones = target.double(), params.bones.detach().double()
    na = T.NUM_ANGLES
    d = 6 + na if fixed_bones else 26 + na  # rot, trans, angles [, bones (20)]

    def residuals(x: torch.Tensor, hand: torch.Tensor) -> torch.Tensor:
        trial = HandParams(rot=x[:, :3], trans=x[:, 3:6], angles=x[:, 6:6 + na],
                           bones=bones[hand] if fixed_bones else x[:, 6 + na:])
        return ((forward_kinematics(trial).joints - goal[hand]) * weight[hand]).flatten(1)

    device = params.rot.device
    low, high = limits(device, dtype=torch.float64) if bounds is None else (b.double() for b in bounds)
    inf = torch.full((6,), float("inf"), dtype=torch.float64, device=device)
    start = torch.cat([params.rot, params.trans, params.angles, params.bones], 1)[:, :d].double()
    # Bones at least 1 mm, or as short as stage 1 measured them (two coincident target joints), so
    # that clipping never makes the start worse than stage 1's fit.
    shortest = torch.minimum(torch.ones_like(params.bones, dtype=torch.float64), params.bones.double())
    low = torch.cat([-inf.expand(len(start), 6), low.expand(len(start), -1), shortest], 1)[:, :d]
    high = torch.cat([inf.expand(len(start), 6), high.expand(len(start), -1),
                      inf.repeat(4)[:20].expand(len(start), 20)], 1)[:, :d]
    with torch.no_grad():
        # Done at 0.01 mm RMS (float32 FK reaches ~0.002): exact targets cost one FK call.
        pattern = torch.as_tensor(np.repeat(joints_moved_by(not fixed_bones), 3, axis=1)) if LM_SPARSE_JACOBIAN else None
        x = levenberg_marquardt(residuals, start, low, high, iterations, good_enough=1e-4,
                                sparsity=pattern).to(params.rot.dtype)
    return HandParams(rot=x[:, :3], trans=x[:, 3:6], angles=x[:, 6:6 + na],
                      bones=params.bones if fixed_bones else x[:, 6 + na:])


def _refine(params: HandParams, target, mask, fixed_bones: bool, iterations: int, bounds=None) -> HandParams:
    """Projected Adam on the joint error; keeps each hand's best iterate. bounds: as `_polish_lm`'s."""
    p = params.map(lambda t: t.detach().clone().requires_grad_(True))
    groups = [{"params": [p.rot], "lr": 0.01}, {"params": [p.angles], "lr": 0.02}, {"params": [p.trans], "lr": 0.5}]
    if not fixed_bones:
        groups.append({"params": [p.bones], "lr": 0.3})
    opt = Adam(groups)
    base = [g["lr"] for g in opt.param_groups]
    w = mask.to(target.dtype)
    best = params.map(lambda t: t.detach().clone())
    best_err = _error(forward_kinematics(best).joints.detach(), target, w)
    for _ in range(iterations):
        if float(best_err.max()) < 1e-4:  # every hand already fits to 0.01 mm RMS (float32 reaches ~0.002)
            break
        opt.zero_grad(set_to_none=True)
        err = _error(forward_kinematics(p).joints, target, w)
        err.sum().backward()
        opt.step()
        for group, lr in zip(opt.param_groups, base):
            group["lr"] = cosine_lr(lr, opt.steps, iterations)
        with torch.no_grad():
            p.angles.copy_(clamp_angles(p.angles) if bounds is None else torch.clamp(p.angles, *bounds))
            p.bones.clamp_(min=1.0)
            better = err.detach() < best_err
            if bool(better.any()):
                for name, value in best.tensors().items():
                    value[better] = p.tensors()[name].detach()[better]
                best_err = torch.where(better, err.detach(), best_err)
    # The last step is not yet scored; score it too.
    with torch.no_grad():
        err = _error(forward_kinematics(p).joints, target, w)
        better = err < best_err
        for name, value in best.tensors().items():
            value[better] = p.tensors()[name].detach()[better]
    return best


def _error(fitted, target, w) -> torch.Tensor:
    """(N,) mean squared joint error over the visible joints, mm^2."""
    return (((fitted - target) ** 2).sum(-1) * w).sum(-1) / w.sum(-1).clamp_min(1.0)
