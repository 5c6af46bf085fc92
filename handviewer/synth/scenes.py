"""Random interacting two-hand configurations and smooth sequences, with ground truth.

Every configuration is built in the right hand's own frame (x radial, y distal, z palmar, mm) from
one of six kinds of interaction, then rotated and placed in front of the camera:

  palms    palms together (prayer), fingers nearly straight
  steeple  palms facing, the left hand tilted 15-45 deg so only the fingers meet (a "tent")
  clasp    palms facing, turned 40-90 deg about the palm normal, fingers half closed
  stacked  one hand lying on the back (or palm) of the other, crossed by up to 50 deg
  cross    fingers crossing at 25-70 deg, one hand in front of the other
  tips     fingers pointing at each other, fingertips touching

Each kind fixes the left hand's orientation relative to the right (plus a few degrees of noise), a
line through the right hand and the direction of that line (the approach direction). The left
hand starts far out along the line and is moved in until it first touches the right hand: the
contact is found exactly, by casting rays along the line from the surface samples of one plain
mesh to the other (`_geometry.contact_distance`); the left hand is then set back by a clearance
(the gap: 1.5-15 mm for scenes, 1.5-8 mm at sequence keyframes). So hands are close (0-40 mm)
but do not pass through each other. The kinds are defined in `templates`.

Acceptance rule (ground truth): `handviewer.intersect.count_intersections` on the two PLAIN meshes
(50^3 grid over the pair's box) must give a volume <= ACCEPT_MAX_CM3 (0.1 cm^3, a few grid points).
A proposal that fails is pushed 3 mm further apart once and re-tested, else rejected; proposals
whose line misses the right hand or that cannot fit the image at <= MAX_DEPTH_MM are rejected too.
`TwoHandSequence.attempts` counts proposals. Measured: seeds 0-4, 8 verified scenes each: 40 of 40
proposals accepted (100 %), every volume exactly 0, about 0.35 s per scene; 300 unverified
proposals (seed 123): none rejected. The contact search does the work the rule checks.

Placement: the pair's joint centroid lies 400-700 mm in front of the camera (moved further only
when needed to keep every vertex 16 px inside the image), near the optical axis.

Sequences (`random_sequence`) keep one kind and interpolate keyframes (one per second) with eased
slerp/lerp: the relative pose (+-8 deg, +-6 mm), both hands' finger angles, the clearance and the
global pose (+-15 deg, ~20 mm). The contact distance along the line is recomputed every frame and
replaced by a smooth upper envelope, so the hands never pass through each other and move smoothly.
Measured (100 frames, one core): built in about 1.2 s (without `verify`); joints move at most
5.6 mm per frame (170 mm/s at 30 fps), 1.4 mm on average; the bundled sample (stacked, seed 7):
0 of 100 frames above ACCEPT_MAX_CM3, all exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from handviewer.hand import HandModel, HandParams
from handviewer.hand.skeleton import mirror_x
from handviewer.io import Camera, default_camera
from handviewer.synth import _geometry as G
from handviewer.synth.templates import SCENE_KINDS, _template, _Template

ACCEPT_MAX_CM3 = 0.1
"""Largest ground-truth intersection volume (cm^3, plain meshes, 50^3 grid) of an accepted frame."""
DEPTH_RANGE_MM = (400.0, 700.0)
MAX_DEPTH_MM = 850.0
GAP_RANGE_MM = (1.5, 15.0)
SEQUENCE_GAP_MM = (1.5, 8.0)  # keyframe clearances of sequences (hands in contact more often)
VIEW_MARGIN_PX = 16.0


@lru_cache(maxsize=None)
def _model(detail: str = "plain", dtype: torch.dtype = torch.float32) -> HandModel:
    return HandModel(detail, dtype=dtype)


@dataclass(frozen=True, eq=False)
class TwoHandSequence:
    """Ground truth of T frames of two hands (independent scenes or a smooth clip).

    params_right     : HandParams (T), the right hand in the camera frame.
    params_left      : HandParams (T), right-hand parameters of the mirrored left hand:
                       left joints = mirror_x(model.joints(params_left)), faces = model.faces_left.
    joints           : (T, 2, 21, 3) float32 mm, camera frame, right then left, our joint order.
    camera           : the camera (intrinsics and image size).
    fps              : frames per second (0 for independent scenes).
    kinds            : (T,) scene kind of each frame (see SCENE_KINDS).
    approach         : (T, 3) unit, camera frame: the direction from the right hand to the left along
                       which the left hand was placed (roughly the contact normal).
    gap_mm           : (T,) clearance added beyond the first contact along `approach`, mm.
    intersection_cm3 : (T,) ground-truth intersection volume (plain meshes), NaN if not verified.
    seed             : the seed it was made from.
    attempts         : proposals drawn (acceptance rate = T / attempts for `random_scenes`).
    """

    params_right: HandParams
    params_left: HandParams
    joints: np.ndarray
    camera: Camera
    fps: float
    kinds: tuple[str, ...]
    approach: np.ndarray
    gap_mm: np.ndarray
    intersection_cm3: np.ndarray
    seed: int
    attempts: int = 1
    extra: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name in ("joints", "approach", "gap_mm", "intersection_cm3"):
            value = np.array(getattr(self, name))
            value.flags.writeable = False
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return len(self.joints)

    def vertices(self, detail: str = "plain") -> np.ndarray:
        """(T, 2, V, 3) float64 mm, camera frame: both hands' mesh vertices (faces: `faces(detail)`)."""
        return hand_vertices(_model(detail), self.params_right, self.params_left)

    @staticmethod
    def faces(detail: str = "plain") -> tuple[np.ndarray, np.ndarray]:
        """(faces of the right hand (F, 3), faces of the left hand (F, 3)) of that detail."""
        model = _model(detail)
        return model.faces, model.faces_left


def hand_vertices(model: HandModel, params_right: HandParams, params_left: HandParams) -> np.ndarray:
    """(T, 2, V, 3) float64 mm camera frame; the left hand mirrored (use `model.faces_left` for it)."""
    with torch.no_grad():
        right = model.vertices(params_right).double().numpy()
        left = model.vertices(params_left).double().numpy() @ G.MIRROR
    return np.stack([right, left], axis=1)


def pair_joints(model: HandModel, params_right: HandParams, params_left: HandParams) -> np.ndarray:
    """(T, 2, 21, 3) float32 mm camera frame, right then left (mirrored)."""
    with torch.no_grad():
        right = model.joints(params_right).numpy()
        left = mirror_x(model.joints(params_left).numpy())
    return np.stack([right, left], axis=1).astype(np.float32)


def intersection_volumes(params_right: HandParams, params_left: HandParams, frames=None) -> np.ndarray:
    """(T,) ground-truth intersection volume, cm^3 (count_intersections on the plain meshes, 50^3 grid).

    frames : indices to compute (others NaN); default all. About 0.1-1 s per touching pair on one core.
    """
    from handviewer.intersect import count_intersections

    model = _model("plain")
    verts = hand_vertices(model, params_right, params_left)
    out = np.full(len(verts), np.nan)
    for t in range(len(verts)) if frames is None else frames:
        out[t] = count_intersections(verts[t, 0], model.faces, verts[t, 1], model.faces_left)[1]
    return out


# --------------------------------------------------------------------------------------------
# Building frames from per-frame inputs.


@dataclass
class _Inputs:
    """Per-frame inputs of `_build`, in the right hand's frame unless stated (T frames)."""

    rel: np.ndarray  # (T, 3, 3)
    wrist: np.ndarray  # (T, 3) mm
    approach: np.ndarray  # (3,) unit
    angles_right: np.ndarray  # (T, 36) rad
    angles_left: np.ndarray  # (T, 36) rad
    bones_right: np.ndarray  # (20,) mm
    bones_left: np.ndarray  # (20,) mm
    gap: np.ndarray  # (T,) mm
    global_rot: np.ndarray  # (T, 3, 3) right hand frame -> camera frame
    centre: np.ndarray  # (T, 3) mm, camera frame: where the joint centroid goes


def _local_params(angles: np.ndarray, bones: np.ndarray) -> HandParams:
    n = len(angles)
    t = lambda a: torch.tensor(np.array(a, dtype=np.float64))  # noqa: E731
    return HandParams(rot=t(np.zeros((n, 3))), trans=t(np.zeros((n, 3))),
                      bones=t(np.broadcast_to(bones, (n, 20))), angles=t(angles))


def _contacts(inp: _Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contact offsets s_c (T,) mm along the approach (inf: the line misses), and local joints/verts."""
    model = _model("plain", torch.float64)
    with torch.no_grad():
        jr, vr = (a.numpy() for a in model.forward(_local_params(inp.angles_right, inp.bones_right)))
        jl, vl = (a.numpy() @ G.MIRROR for a in model.forward(_local_params(inp.angles_left, inp.bones_left)))
    d = inp.approach
    vl = np.einsum("tij,tvj->tvi", inp.rel, vl) + inp.wrist[:, None]  # (T, V, 3) at offset 0
    jl = np.einsum("tij,tvj->tvi", inp.rel, jl) + inp.wrist[:, None]
    s_c = np.empty(len(vr))
    for t in range(len(vr)):
        far = (vr[t] @ d).max() - (vl[t] @ d).min() + 1.0
        s_c[t] = far - G.contact_distance((vl[t] + far * d, model.faces_left), (vr[t], model.faces), -d)
    return s_c, np.stack([jr, jl], axis=1), np.stack([vr, vl], axis=1)


def _depth_shift(points: np.ndarray, camera: Camera, margin: float) -> float:
    """Smallest shift along +z (mm) that brings all camera-frame points (..., 3) margin px inside."""
    p = points.reshape(-1, 3)
    need = [0.0]
    for axis, f, c, size in ((0, camera.fx, camera.cx, camera.width), (1, camera.fy, camera.cy, camera.height)):
        for bound in (size - 1 - margin - c, margin - c):  # u - c <= bound (> 0) and u - c >= bound (< 0)
            need.append(float((f * p[:, axis] / bound - p[:, 2]).max()))
    return max(need)


def _build(inp: _Inputs, camera: Camera, smooth: bool) -> dict:
    """Place the pair frame by frame; returns params (float32), joints, approach, offsets and depth shift."""
    s_c, joints_local, verts_local = _contacts(inp)
    if smooth and np.isfinite(s_c).any():
        good = np.isfinite(s_c)
        s_c = np.interp(np.arange(len(s_c)), np.flatnonzero(good), s_c[good])
        s_c = G.smooth_upper_envelope(s_c)
    offset = s_c + inp.gap  # (T,) mm
    shift = offset[:, None] * inp.approach  # (T, 3) mm
    joints_local = joints_local.copy()
    joints_local[:, 1] += shift[:, None]
    verts_local = verts_local.copy()
    verts_local[:, 1] += shift[:, None]
    centroid = joints_local.reshape(len(s_c), -1, 3).mean(axis=1)  # (T, 3)
    trans = inp.centre - np.einsum("tij,tj->ti", inp.global_rot, centroid)  # right wrist, camera frame
    verts_cam = np.einsum("tij,tkvj->tkvi", inp.global_rot, verts_local) + trans[:, None, None]
    dz = np.array([_depth_shift(v, camera, VIEW_MARGIN_PX) for v in verts_cam])
    return {"s_c": s_c, "offset": offset, "rot": inp.global_rot, "trans": trans, "dz": dz,
            "wrist_left": inp.wrist + shift}


def _params(inp: _Inputs, built: dict, dz: np.ndarray) -> tuple[HandParams, HandParams]:
    """Camera-frame parameters of both hands (float32) after moving the pair dz (T,) mm along z."""
    rot_r = built["rot"]
    trans_r = built["trans"] + dz[:, None] * np.array([0.0, 0.0, 1.0])
    rot_l = rot_r @ inp.rel  # left (mirrored) frame -> camera
    trans_l = np.einsum("tij,tj->ti", rot_r, built["wrist_left"]) + trans_r
    t = lambda a: torch.tensor(np.array(a, dtype=np.float32))  # noqa: E731
    n = len(rot_r)
    right = HandParams(t(G.matrix_to_rotvec(rot_r)), t(trans_r), t(np.broadcast_to(inp.bones_right, (n, 20))),
                       t(inp.angles_right))
    left = HandParams(t(G.matrix_to_rotvec(G.MIRROR @ rot_l @ G.MIRROR)), t(trans_l @ G.MIRROR),
                      t(np.broadcast_to(inp.bones_left, (n, 20))), t(inp.angles_left))
    return right, left


def _hand_shapes(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Bone lengths (20,) mm of one person's right and left hands (left within ~1 % of the right)."""
    bones = _model().random_params(1, seed=int(rng.integers(2**31)), rotate=False).bones[0].double().numpy()
    return bones, bones * np.clip(1.0 + 0.01 * rng.standard_normal(20), 0.97, 1.03)


def _finger_angles(rng: np.random.Generator, n: int, flex: tuple[float, float]) -> np.ndarray:
    """(n, 36) rad: random joint angles (within the limits) scaled towards the open hand by U(flex)."""
    angles = _model().random_params(n, seed=int(rng.integers(2**31)), rotate=False).angles.double().numpy()
    return angles * rng.uniform(*flex, size=(n, 1))


def _centre(rng: np.random.Generator) -> np.ndarray:
    z = rng.uniform(*DEPTH_RANGE_MM)
    return np.array([rng.uniform(-0.06, 0.06) * z, rng.uniform(-0.04, 0.04) * z, z])


def _sequence(params: tuple[HandParams, HandParams], inp: _Inputs, camera: Camera, fps: float, kinds, volumes,
              seed: int, attempts: int, built: dict) -> TwoHandSequence:
    right, left = params
    return TwoHandSequence(
        params_right=right, params_left=left, joints=pair_joints(_model(), right, left), camera=camera,
        fps=float(fps), kinds=tuple(kinds), approach=inp.global_rot @ inp.approach, gap_mm=inp.gap.copy(),
        intersection_cm3=volumes, seed=int(seed), attempts=int(attempts),
        extra={"contact_offset_mm": built["s_c"], "depth_shift_mm": built["dz"]},
    )


def _scene_inputs(tpl: _Template, rng: np.random.Generator) -> _Inputs:
    bones_right, bones_left = _hand_shapes(rng)
    return _Inputs(
        rel=tpl.rel[None], wrist=tpl.wrist[None], approach=tpl.approach,
        angles_right=_finger_angles(rng, 1, tpl.flex_right), angles_left=_finger_angles(rng, 1, tpl.flex_left),
        bones_right=bones_right, bones_left=bones_left, gap=np.array([rng.uniform(*GAP_RANGE_MM)]),
        global_rot=tpl.view[None], centre=_centre(rng)[None],
    )


def random_scenes(n: int, seed: int = 0, camera: Camera | None = None, kinds=SCENE_KINDS,
                  verify: bool = True) -> TwoHandSequence:
    """`n` independent interacting configurations (frames of a TwoHandSequence with fps 0).

    camera : default `default_camera(640, 480)` (f = 768 px).
    kinds  : the interaction kinds to draw from, uniformly (see SCENE_KINDS).
    verify : apply the acceptance rule with the ground-truth count (about 0.5 s per scene);
             without it, `intersection_cm3` is NaN and only the contact search keeps hands apart.
    Proposals are drawn until n are accepted (module docstring); `attempts` counts them.
    """
    rng = np.random.default_rng(seed)
    camera = camera or default_camera(640, 480)
    accepted, attempts = [], 0
    while len(accepted) < n:
        attempts += 1
        if attempts > 20 * n + 20:
            raise RuntimeError(f"random_scenes: only {len(accepted)} of {attempts} proposals accepted")
        kind = kinds[int(rng.integers(len(kinds)))]
        inp = _scene_inputs(_template(kind, rng), rng)
        built = _build(inp, camera, smooth=False)
        if not np.isfinite(built["s_c"]).all() or inp.centre[0, 2] + built["dz"][0] > MAX_DEPTH_MM:
            continue
        params = _params(inp, built, built["dz"])
        volume = np.array([np.nan])
        if verify:
            volume = intersection_volumes(*params)
            if volume[0] > ACCEPT_MAX_CM3:  # push 3 mm further apart once
                inp.gap = inp.gap + 3.0
                built = _build(inp, camera, smooth=False)
                params = _params(inp, built, built["dz"])
                volume = intersection_volumes(*params)
                if volume[0] > ACCEPT_MAX_CM3:
                    continue
        accepted.append(_sequence(params, inp, camera, 0.0, [kind], volume, seed, 1, built))
    return _concat(accepted, camera, seed, attempts)


def _concat(items: list[TwoHandSequence], camera: Camera, seed: int, attempts: int) -> TwoHandSequence:
    cat = lambda name: np.concatenate([getattr(s, name) for s in items])  # noqa: E731
    extra = {k: np.concatenate([s.extra[k] for s in items]) for k in items[0].extra}
    return TwoHandSequence(
        params_right=HandParams.cat([s.params_right for s in items]),
        params_left=HandParams.cat([s.params_left for s in items]),
        joints=cat("joints"), camera=camera, fps=0.0, kinds=sum((s.kinds for s in items), ()),
        approach=cat("approach"), gap_mm=cat("gap_mm"), intersection_cm3=cat("intersection_cm3"),
        seed=int(seed), attempts=attempts, extra=extra,
    )


def _sequence_inputs(tpl: _Template, rng: np.random.Generator, frames: int, key_every: int) -> _Inputs:
    """Keyframes around the template, interpolated to every frame (eased slerp / lerp)."""
    times = G.key_times(frames, key_every)
    k = len(times)
    d = tpl.approach
    wobble = rng.normal(0.0, 6.0, size=(k, 3))
    wrist = tpl.wrist + wobble - (wobble @ d)[:, None] * d  # moves across the approach line only
    rel = np.stack([tpl.rel @ G.random_rotation(rng, 8.0) for _ in range(k)])
    angles = []
    for flex in (tpl.flex_right, tpl.flex_left):
        base = _finger_angles(rng, 1, flex)
        angles.append(0.5 * base + 0.5 * _finger_angles(rng, k, flex))
    bones_right, bones_left = _hand_shapes(rng)
    rot = np.stack([G.random_rotation(rng, 15.0) @ tpl.view for _ in range(k)])
    centre = _centre(rng) + rng.normal(0.0, 1.0, size=(k, 3)) * np.array([20.0, 15.0, 25.0])
    gap = rng.uniform(*SEQUENCE_GAP_MM, size=k)
    lerp = lambda v: G.interpolate(times, v, frames)  # noqa: E731
    return _Inputs(
        rel=G.interpolate_rotations(times, rel, frames), wrist=lerp(wrist), approach=d,
        angles_right=lerp(angles[0]), angles_left=lerp(angles[1]), bones_right=bones_right,
        bones_left=bones_left, gap=lerp(gap), global_rot=G.interpolate_rotations(times, rot, frames),
        centre=lerp(centre),
    )


def random_sequence(frames: int = 100, seed: int = 0, camera: Camera | None = None, fps: float = 30.0,
                    kind: str | None = None, key_every: int = 30, verify: bool = False) -> TwoHandSequence:
    """A smooth clip of one interaction kind (random unless given), keyframes every `key_every` frames.

    The pair is pushed back along z by one constant amount when needed to stay in the image.
    verify : compute every frame's ground-truth volume (about 0.5 s per frame); frames above
             ACCEPT_MAX_CM3 get 3 mm more clearance (blended over +-8 frames), up to 3 rounds.
    """
    if frames < 1:
        raise ValueError("random_sequence: frames must be >= 1")
    rng = np.random.default_rng(seed)
    camera = camera or default_camera(640, 480)
    for attempt in range(1, 21):
        chosen = kind or SCENE_KINDS[int(rng.integers(len(SCENE_KINDS)))]
        inp = _sequence_inputs(_template(chosen, rng), rng, frames, key_every)
        built = _build(inp, camera, smooth=True)
        dz = np.full(frames, built["dz"].max())
        if not np.isfinite(built["s_c"]).all() or inp.centre[:, 2].max() + dz[0] > MAX_DEPTH_MM:
            continue
        params = _params(inp, built, dz)
        volumes = np.full(frames, np.nan)
        if verify:
            volumes = intersection_volumes(*params)
            for _ in range(3):
                bad = volumes > ACCEPT_MAX_CM3
                if not bad.any():
                    break
                extra = G.smooth_upper_envelope(3.0 * bad)
                inp.gap = inp.gap + extra
                built = _build(inp, camera, smooth=True)
                params = _params(inp, built, dz)
                changed = np.flatnonzero(extra > 1e-3)
                volumes[changed] = intersection_volumes(*params, frames=changed)[changed]
        return _sequence(params, inp, camera, fps, [chosen] * frames, volumes, seed, attempt, built)
    raise RuntimeError(f"random_sequence: no usable sequence in 20 attempts (seed {seed})")
