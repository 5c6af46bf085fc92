"""The fixed triangulation of the watertight hand mesh, and where each vertex sits relative to the skeleton.

Built once per detail, in numpy. Topology: a box (the palm) whose faces are extruded into
tubes (fingers), so the surface is a closed 2-manifold by construction: a patch of p x p quads
on the palm's distal face grows each finger, one on its radial face grows the thumb; the patch
itself becomes the fingertip cap. Each vertex gets a placement rule (`VertexRig`):

    x = anchor_weights @ joints + frame[frame_index] @ (offset * scale * miter)

so the mesh follows the skeleton (bone lengths exactly, since anchors are blends of joints)
and is differentiable in every parameter (see `mesh.pose_vertices`). Vertices where the palm
meets a finger also have a second rule rigidly attached to the finger's first bone, blended in
(two-bone skinning), so the web between palm and finger turns partly with the finger instead of
folding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handviewer.hand import template as T

# Finger slots across the palm's distal face, ulnar to radial: pinky, ring, middle, index.
_SLOT_FINGERS = (4, 3, 2, 1)  # finger numbers (0 thumb ... 4 pinky)
_BASE_JOINT = {f: 1 + 4 * f for f in range(5)}  # CMC of the thumb, MCP of the fingers


@dataclass(frozen=True)
class Station:
    """A ring of the tube of one finger: `bone` 1-3 of the finger (1 = first bone after the palm),
    `t` in [0, 1] along it, or a joint ring (t = 0 with `at_joint`) placed in the half-way frame."""

    bone: int
    t: float
    at_joint: bool = False
    radius_scale: float = 1.0


@dataclass(frozen=True)
class Detail:
    name: str
    patch: int  # p: a finger's cross-section ring has 4p vertices
    palm_cells_y: int  # cells from wrist to knuckles
    finger_stations: tuple[Station, ...]
    thumb_stations: tuple[Station, ...]


DETAILS = {
    "plain": Detail(
        "plain", 2, 3,
        finger_stations=(Station(1, 0.0, True), Station(1, 0.5), Station(2, 0.0, True), Station(3, 0.0, True), Station(3, 0.6, radius_scale=0.95)),
        thumb_stations=(Station(1, 0.7), Station(2, 0.0, True), Station(3, 0.0, True), Station(3, 0.6, radius_scale=0.95)),
    ),
    "refined": Detail(
        "refined", 3, 4,
        finger_stations=(
            Station(1, 0.0, True), Station(1, 0.33), Station(1, 0.67), Station(2, 0.0, True), Station(2, 0.5),
            Station(3, 0.0, True), Station(3, 0.45, radius_scale=0.97), Station(3, 0.8, radius_scale=0.9),
        ),
        thumb_stations=(
            Station(1, 0.6), Station(2, 0.0, True), Station(2, 0.5), Station(3, 0.0, True),
            Station(3, 0.45, radius_scale=0.97), Station(3, 0.8, radius_scale=0.9),
        ),
    ),
}

# Frame table per hand used by VertexRig.frame_index: 0-20 joint (half-way) frames, 21-41 bone frames.
BONE_FRAME = 21
_KNUCKLE_BACKOFF = 0.14  # the palm's distal face sits this fraction of the metacarpal before the MCP
_CAP_EXTRA = 1.5  # mm: the surface ends this far beyond the tip joint


@dataclass(frozen=True)
class VertexRig:
    """Placement of V vertices. anchor_weights (V, 21); frame_index (V,); offset (V, 3) mm (mean hand);
    miter_joint (V,) joint whose flexion pushes out the outside of the bend, -1 for none.
    blend (V,) in [0, 1]: weight of the second rule (anchor_weights2, frame_index2, offset2)."""

    anchor_weights: np.ndarray
    frame_index: np.ndarray
    offset: np.ndarray
    miter_joint: np.ndarray
    blend: np.ndarray
    anchor_weights2: np.ndarray
    frame_index2: np.ndarray
    offset2: np.ndarray


@dataclass(frozen=True)
class MeshTopology:
    faces: np.ndarray  # (F, 3) int64, counter-clockwise seen from outside
    rig: VertexRig
    part: np.ndarray  # (V,) int: 0 palm, 1-5 thumb..pinky (for colouring and part masks)

    @property
    def num_vertices(self) -> int:
        return len(self.part)


class _Builder:
    """Grows the quad mesh and the per-vertex placement rules together."""

    def __init__(self) -> None:
        self.quads: list[list[int]] = []
        self.w: list[np.ndarray] = []
        self.frame: list[int] = []
        self.offset: list[np.ndarray] = []
        self.miter: list[int] = []
        self.part: list[int] = []
        self.second: dict[int, tuple[float, int, int]] = {}  # vertex -> (blend, anchor joint, frame index)

    def add_vertex(self, weights: dict[int, float], frame: int, offset, miter: int = -1, part: int = 0) -> int:
        w = np.zeros(21)
        for j, value in weights.items():
            w[j] += value
        self.w.append(w)
        self.frame.append(frame)
        self.offset.append(np.asarray(offset, dtype=np.float64))
        self.miter.append(miter)
        self.part.append(part)
        return len(self.w) - 1

    def set_vertex(self, v: int, weights: dict[int, float], frame: int, offset, miter: int = -1, part: int = 0) -> None:
        w = np.zeros(21)
        for j, value in weights.items():
            w[j] += value
        self.w[v], self.frame[v], self.offset[v], self.miter[v], self.part[v] = w, frame, np.asarray(offset, float), miter, part

    # --- topology -------------------------------------------------------------------------------
    def box(self, nx: int, ny: int, nz: int) -> dict[tuple[int, int, int], int]:
        """Surface lattice of an nx x ny x nz box as quads with outward normals; returns lattice -> vertex id."""
        ids: dict[tuple[int, int, int], int] = {}

        def vid(i, j, k):
            if (i, j, k) not in ids:
                ids[(i, j, k)] = self.add_vertex({}, 0, np.zeros(3))
            return ids[(i, j, k)]

        # For each face: fixed axis and value, and in-plane axes (a, b) with a x b = outward normal.
        n = (nx, ny, nz)
        for axis, (a, b) in ((0, (1, 2)), (1, (2, 0)), (2, (0, 1))):
            for side in (0, 1):
                ua, ub = (a, b) if side == 1 else (b, a)
                for s in range(n[ua]):
                    for t in range(n[ub]):
                        corners = []
                        for ds, dt in ((0, 0), (1, 0), (1, 1), (0, 1)):
                            c = [0, 0, 0]
                            c[axis] = side * n[axis]
                            c[ua], c[ub] = s + ds, t + dt
                            corners.append(vid(*c))
                        self.quads.append(corners)
        return ids

    def extrude(self, patch_quads: list[int], rings: int) -> tuple[list[int], list[list[int]]]:
        """Extrude a patch of quads `rings` times. Returns the base boundary loop (ordered as the patch's
        winding) and the vertex ids of each new ring, aligned with the loop. The patch quads end up
        on the last ring (they become the cap)."""
        patch_set = {tuple(self.quads[q]) for q in patch_quads}
        edges = {}
        directed = set()
        for quad in patch_set:
            for a, b in zip(quad, quad[1:] + quad[:1]):
                directed.add((a, b))
        for a, b in directed:
            if (b, a) not in directed:
                edges[a] = b
        start = min(edges)
        loop = [start]
        while edges[loop[-1]] != start:
            loop.append(edges[loop[-1]])
        previous = loop
        ring_ids = []
        for _ in range(rings):
            ring = [self.add_vertex({}, 0, np.zeros(3)) for _ in loop]
            for m in range(len(loop)):
                a, b = previous[m], previous[(m + 1) % len(loop)]
                a2, b2 = ring[m], ring[(m + 1) % len(loop)]
                self.quads.append([a, b, b2, a2])
            ring_ids.append(ring)
            previous = ring
        remap = dict(zip(loop, previous))
        for q in patch_quads:
            self.quads[q] = [remap.get(v, v) for v in self.quads[q]]
        return loop, ring_ids

    def triangles(self) -> np.ndarray:
        tris = [[q[0], q[1], q[2]] for q in self.quads] + [[q[0], q[2], q[3]] for q in self.quads]
        return np.asarray(tris, dtype=np.int64)


def build_topology(detail: str = "plain") -> MeshTopology:
    """The triangulation and vertex placement rules of one level of detail ("plain" or "refined")."""
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {sorted(DETAILS)}, got {detail!r}")
    d = DETAILS[detail]
    p, ny = d.patch, d.palm_cells_y
    # One more cell in thickness than a patch: fingers grow from the dorsal part of the distal face
    # (the palm runs on past the knuckles on the palmar side).
    nx, nz = 4 * p + 3, p + 1
    b = _Builder()
    ids = b.box(nx, ny, nz)
    lattice = {v: c for c, v in ids.items()}
    for (i, j, k), v in ids.items():
        weights, offset = _palm_rule(i, j, k, nx, ny, nz, p)
        b.set_vertex(v, weights, 0, offset)

    rest_bone_frames, rest_joint_frames = _rest_frames()

    def quads_where(pred) -> list[int]:
        return [q for q, quad in enumerate(b.quads) if all(pred(*lattice[v]) for v in quad if v in lattice)
                and all(v in lattice for v in quad)]

    for s, finger in enumerate(_SLOT_FINGERS):
        i0 = s * (p + 1)
        centre = np.array([i0 + p / 2, p / 2])
        patch = quads_where(lambda i, j, k, i0=i0: j == ny and i0 <= i <= i0 + p and k <= p)
        # Normalised patch coordinates along the palm's x (radial) and z (palmar) axes.
        coords = lambda v, c=centre: ((lattice[v][0] - c[0]) / (p / 2), (lattice[v][2] - c[1]) / (p / 2))  # noqa: E731
        _grow_finger(b, patch, finger, d.finger_stations, coords, (0, 2), rest_bone_frames, rest_joint_frames)

    # The thumb grows from the palmar face at the radial, proximal corner: flexion across the palm
    # then moves it away from the palm's surface instead of folding the web into it.
    centre = np.array([nx - p / 2, p / 2])
    patch = quads_where(lambda i, j, k: k == nz and i >= nx - p and j <= p)
    coords = lambda v: ((lattice[v][0] - centre[0]) / (p / 2), (lattice[v][1] - centre[1]) / (p / 2))  # noqa: E731
    _grow_finger(b, patch, 0, d.thumb_stations, coords, (0, 1), rest_bone_frames, rest_joint_frames)

    rig = _rig_with_second_rules(b, rest_bone_frames, rest_joint_frames)
    return MeshTopology(faces=b.triangles(), rig=rig, part=np.asarray(b.part, dtype=np.int64))


def _rig_with_second_rules(b: _Builder, rest_bone: np.ndarray, rest_joint: np.ndarray) -> VertexRig:
    """Freeze the builder's rules; second rules get the rest offset that puts them on the first rule."""
    v = len(b.w)
    w, frame, offset = np.stack(b.w), np.asarray(b.frame, dtype=np.int64), np.stack(b.offset)
    rest_joints = _rest_joints()
    frames = np.concatenate([rest_joint, rest_bone])  # (42, 3, 3), as in the frame table
    rest = w @ rest_joints + np.einsum("vij,vj->vi", frames[frame], offset)
    blend, w2, frame2, offset2 = np.zeros(v), np.zeros((v, 21)), np.zeros(v, dtype=np.int64), np.zeros((v, 3))
    for vertex, (weight, joint, frame_id) in b.second.items():
        blend[vertex], frame2[vertex] = weight, frame_id
        w2[vertex, joint] = 1.0
        offset2[vertex] = frames[frame_id].T @ (rest[vertex] - rest_joints[joint])
    return VertexRig(w, frame, offset, np.asarray(b.miter, dtype=np.int64), blend, w2, frame2, offset2)


def _rest_joints() -> np.ndarray:
    import torch

    from handviewer.hand.kinematics import forward_kinematics
    from handviewer.hand.params import default_params

    return forward_kinematics(default_params(1, dtype=torch.float64)).joints[0].numpy()


def _palm_rule(i: int, j: int, k: int, nx: int, ny: int, nz: int, p: int) -> tuple[dict[int, float], np.ndarray]:
    """Anchor weights and hand-frame offset (mm) of the palm lattice vertex (i, j, k)."""
    v, w = j / ny, k / nz
    centres = [s * (p + 1) + p / 2 for s in range(4)]
    mcps = [_BASE_JOINT[f] for f in _SLOT_FINGERS]
    knuckle: dict[int, float] = {}
    if i <= centres[0]:
        knuckle[mcps[0]] = 1.0
        edge_x = (i - centres[0]) / (p / 2) * T.FINGER_RADII[4, 0, 0]
    elif i >= centres[-1]:
        knuckle[mcps[-1]] = 1.0
        edge_x = (i - centres[-1]) / (p / 2) * T.FINGER_RADII[1, 0, 0]
    else:
        s = int((i - centres[0]) // (p + 1))
        lam = (i - centres[s]) / (p + 1)
        knuckle = {mcps[s]: 1.0 - lam, mcps[s + 1]: lam}
        edge_x = 0.0
    weights = {0: (1.0 - v) + v * _KNUCKLE_BACKOFF}
    for jnt, value in knuckle.items():
        weights[jnt] = weights.get(jnt, 0.0) + v * (1.0 - _KNUCKLE_BACKOFF) * value
    x = (1.0 - v) * (i / nx - 0.5) * 2.0 * T.WRIST_HALF_WIDTH + v * edge_x
    dorsal = (1 - v) * T.PALM_DORSAL[0] + v * T.PALM_DORSAL[1]
    palmar = (1 - v) * T.PALM_PALMAR[0] + v * T.PALM_PALMAR[1]
    z = dorsal + w * (palmar - dorsal)
    if i in (0, nx) and k in (0, nz):  # round the palm's long edges (in z only: the edge cells are narrow in x)
        z += 2.5 if k == 0 else -2.5
    return weights, np.array([x, 0.0, z])


def _rest_frames() -> tuple[np.ndarray, np.ndarray]:
    import torch

    from handviewer.hand.kinematics import forward_kinematics
    from handviewer.hand.params import default_params

    pose = forward_kinematics(default_params(1, dtype=torch.float64))
    return pose.bone_frames[0].numpy(), pose.joint_frames[0].numpy()


# How much the palm vertices around a finger's base turn with the finger's first bone.
_BASE_BLEND = {0: 0.35, 1: 0.25, 2: 0.25, 3: 0.25, 4: 0.25}


def _grow_finger(b: _Builder, patch, finger, stations, coords, palm_axes, rest_bone, rest_joint) -> None:
    """Extrude the finger's tube from its palm patch and give its rings and cap their placement rules."""
    loop, rings = b.extrude(patch, len(stations))
    base = _BASE_JOINT[finger]
    for v in loop:
        b.second[v] = (_BASE_BLEND[finger], base, BONE_FRAME + base + 1)
    radii = T.FINGER_RADII[finger]
    axes = np.eye(3)[list(palm_axes)]  # palm directions of the two patch coordinates

    def angle_in(frame: np.ndarray, a: float, c: float) -> float:
        e = a * axes[0] + c * axes[1]
        return float(np.arctan2(e @ frame[:, 2], e @ frame[:, 0]))

    for station, ring in zip(stations, rings):
        start, end = base + station.bone - 1, base + station.bone
        if station.at_joint:
            weights, frame_id, miter = {start: 1.0}, start, start
            rx, rz = radii[station.bone - 1]
            frame = rest_joint[start]
        else:
            weights = {start: 1.0 - station.t, end: station.t}
            frame_id, miter = BONE_FRAME + end, -1
            lo = radii[station.bone - 1]
            hi = radii[station.bone] if station.bone < 3 else lo * 0.9
            rx, rz = lo + station.t * (hi - lo)
            frame = rest_bone[end]
        rx, rz = rx * station.radius_scale, rz * station.radius_scale
        for v_base, v in zip(loop, ring):
            phi = angle_in(frame, *coords(v_base))
            b.set_vertex(v, weights, frame_id, [rx * np.cos(phi), 0.0, rz * np.sin(phi)], miter, part=finger + 1)

    tip = base + 3
    rx, rz = radii[2] * 0.85
    cap_length = 0.6 * rx
    interior = {v for q in patch for v in b.quads[q]} - set(rings[-1])
    for v in interior:
        a, c = coords(v)
        rho = max(abs(a), abs(c))
        phi = angle_in(rest_bone[tip], a, c)
        offset = [rx * rho * np.cos(phi), _CAP_EXTRA - cap_length * rho**2, rz * rho * np.sin(phi)]
        b.set_vertex(v, {tip: 1.0}, BONE_FRAME + tip, offset, part=finger + 1)
