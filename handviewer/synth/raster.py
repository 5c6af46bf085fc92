"""A headless, dependency-light renderer of two hand meshes: RGB image, part mask and depth.

numpy + OpenCV only (no GL, no Qt). Triangles facing the camera are sorted far to near and filled
with `cv2.fillConvexPoly` into a face-index buffer (painter's algorithm, 1/16 px precision); each
hand pixel then gets perspective-correct barycentric coordinates in its face, from which come the
smooth (Gouraud, per-pixel) Lambert shading with one fixed light, the depth of the visible surface
and the part label (that of the face's nearest vertex). Right hand: warm skin tone; left hand: a
slightly cooler, darker one; background: a vertical grey-blue gradient or one plain colour.

Speed (one CPU core, 640x480, two `refined` hands): about 35 ms per frame, 120 ms with
`supersample=2`, so 100 frames take 4 s (12 s anti-aliased); see `tests/synth/test_synth_raster.py`.

Coordinates: camera frame (OpenCV, mm), pixels with (0, 0) at the centre of the top-left pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handviewer.io import Camera

SKIN_RIGHT = np.array([228.0, 176.0, 144.0])  # RGB
SKIN_LEFT = np.array([206.0, 160.0, 138.0])
LIGHT = np.array([-0.35, -0.55, -0.76]) / np.linalg.norm([-0.35, -0.55, -0.76])  # towards the light
AMBIENT, DIFFUSE, SPECULAR = 0.36, 0.64, 0.10
GRADIENT = (np.array([62.0, 72.0, 88.0]), np.array([150.0, 156.0, 164.0]))  # top, bottom RGB
PLAIN = np.array([110.0, 116.0, 126.0])
NUM_PARTS = 6  # palm, thumb, index, middle, ring, pinky


@dataclass(frozen=True, eq=False)
class Rendering:
    """One rendered frame.

    image     : (H, W, 3) uint8 RGB.
    part_mask : (H, W) uint8: 0 background, 1-6 right palm, thumb, index, middle, ring, pinky,
                7-12 the same parts of the left hand (`HandModel.parts` + 1, + 7).
    depth     : (H, W) float32 mm, z of the visible surface; inf on the background.
    """

    image: np.ndarray
    part_mask: np.ndarray
    depth: np.ndarray

    @property
    def hand_masks(self) -> np.ndarray:
        """(2, H, W) bool: visible pixels of the right and of the left hand."""
        return np.stack([(self.part_mask >= 1) & (self.part_mask <= NUM_PARTS), self.part_mask > NUM_PARTS])

    @property
    def hand_mask(self) -> np.ndarray:
        """(H, W) bool: any hand."""
        return self.part_mask > 0


def background(width: int, height: int, style: str = "gradient") -> np.ndarray:
    """(H, W, 3) uint8 RGB: "gradient" (dark blue-grey at the top to light grey) or "plain"."""
    if style == "plain":
        return np.broadcast_to(PLAIN.astype(np.uint8), (height, width, 3)).copy()
    if style != "gradient":
        raise ValueError(f"background must be 'gradient' or 'plain', got {style!r}")
    u = np.linspace(0.0, 1.0, height)[:, None]
    column = (1.0 - u) * GRADIENT[0] + u * GRADIENT[1]  # (H, 3)
    return np.broadcast_to(column[:, None].round().astype(np.uint8), (height, width, 3)).copy()


def vertex_normals(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) unit area-weighted vertex normals of an outward-oriented mesh."""
    tri = verts[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # (F, 3), |fn| = 2 area
    vn = np.zeros_like(verts)
    for k in range(3):
        for c in range(3):
            vn[:, c] += np.bincount(faces[:, k], weights=fn[:, c], minlength=len(verts))
    return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)


def _scaled_K(K: np.ndarray, s: int) -> np.ndarray:
    """Intrinsics of the same camera sampled s times more densely (pixel-centre convention)."""
    K2 = K * s
    K2[2, 2] = 1.0
    K2[:2, 2] += (s - 1) / 2.0
    return K2


def _rasterize(uv: np.ndarray, faces: np.ndarray, order: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W) int32 face index (-1 background): faces filled in `order` (far to near), later on top."""
    import cv2

    ids = np.zeros((height, width), np.int32)
    pts = np.round(uv * 16.0).astype(np.int32)[faces]  # (F, 3, 2), 4 fractional bits
    fill = cv2.fillConvexPoly
    for f in order.tolist():
        fill(ids, pts[f], f + 1, cv2.LINE_8, 4)
    return ids - 1


def _barycentric(px: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(P, 3) screen-space barycentric coordinates of points (P, 2) in triangles (P, 3, 2), clipped."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    v0, v1, v2 = b - a, c - a, px - a
    den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
    den = np.where(np.abs(den) < 1e-12, 1e-12, den)
    w1 = (v2[:, 0] * v1[:, 1] - v1[:, 0] * v2[:, 1]) / den
    w2 = (v0[:, 0] * v2[:, 1] - v2[:, 0] * v0[:, 1]) / den
    w = np.clip(np.stack([1.0 - w1 - w2, w1, w2], axis=1), 0.0, 1.0)
    return w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)


def render_hands(vertices, faces, parts: np.ndarray, camera: Camera, background_style: str = "gradient",
                 supersample: int = 1) -> Rendering:
    """Render a right and a left hand mesh.

    vertices : (2, V, 3) mm camera frame (right, left; the left already mirrored), or a pair in which
               either may be None or hold NaN (a missing hand is not drawn).
    faces    : (faces_right (F, 3), faces_left (F, 3)), outward oriented (`HandModel.faces`, `.faces_left`).
    parts    : (V,) int 0-5 part of each vertex (`HandModel.parts`).
    supersample : render s x s samples per pixel and average the colours (anti-aliasing); the part
               mask and depth take one sample per pixel.
    """
    s = int(supersample)
    H, W = camera.height * s, camera.width * s
    K = _scaled_K(camera.K, s)
    verts, tris, vparts, hand, normals = [], [], [], [], []
    for h, (v, f) in enumerate(zip(vertices, faces)):
        if v is None or not np.isfinite(v).all():
            continue
        v, f = np.asarray(v, dtype=np.float64), np.asarray(f)
        normals.append(vertex_normals(v, f))
        tris.append(f + sum(len(x) for x in verts))
        verts.append(v)
        vparts.append(np.asarray(parts) + 1 + NUM_PARTS * h)
        hand.append(np.full(len(v), h))
    if not verts:
        size = (camera.height, camera.width)
        return Rendering(_final_image(background(W, H, background_style), s), np.zeros(size, np.uint8),
                         np.full(size, np.inf, np.float32))
    v, f, vpart, vhand = np.concatenate(verts), np.concatenate(tris), np.concatenate(vparts), np.concatenate(hand)
    normals = np.concatenate(normals)
    tri = v[f]  # (F, 3, 3) mm
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    centre = tri.mean(axis=1)
    keep = np.flatnonzero((np.einsum("fi,fi->f", fn, centre) < 0) & (tri[..., 2] > 1.0).all(axis=1))
    uvw = v @ K.T
    z = np.maximum(v[:, 2], 1e-6)
    uv = uvw[:, :2] / z[:, None]  # (V, 2) px
    order = keep[np.argsort(-centre[keep, 2], kind="stable")]
    ids = _rasterize(uv, f, order, H, W)
    return _shade(ids, uv, z, f, normals, vpart, vhand, v, background(W, H, background_style), s)


def _vertex_colours(v: np.ndarray, normals: np.ndarray, vhand: np.ndarray) -> np.ndarray:
    """(V, 3) float32 RGB: Lambert + a little Blinn specular with the fixed light, per vertex."""
    view = -v / np.linalg.norm(v, axis=1, keepdims=True)
    half = LIGHT + view
    half /= np.linalg.norm(half, axis=1, keepdims=True)
    lambert = np.clip(normals @ LIGHT, 0.0, None)
    spec = np.clip(np.einsum("vi,vi->v", normals, half), 0.0, None) ** 24
    albedo = np.where(vhand[:, None] == 0, SKIN_RIGHT, SKIN_LEFT)
    return (albedo * (AMBIENT + DIFFUSE * lambert)[:, None] + 255.0 * SPECULAR * spec[:, None]).astype(np.float32)


def _shade(ids, uv, z, f, normals, vpart, vhand, v, image, s) -> Rendering:
    """Per-pixel colour (Gouraud), part label and depth from the face-index buffer."""
    H, W = ids.shape
    flat = ids.ravel()
    pix = np.flatnonzero(flat >= 0)
    fv = f[flat[pix]]  # (P, 3) vertex indices
    ys, xs = np.divmod(pix, W)
    b = _barycentric(np.stack([xs, ys], axis=1).astype(np.float32), uv.astype(np.float32)[fv])
    w = b / z.astype(np.float32)[fv]  # perspective-correct weights
    inv_depth = w.sum(axis=1)
    w /= inv_depth[:, None]
    colours = _vertex_colours(v, normals, vhand)[fv]  # (P, 3, 3)
    colour = w[:, 0, None] * colours[:, 0] + w[:, 1, None] * colours[:, 1] + w[:, 2, None] * colours[:, 2]
    image.reshape(-1, 3)[pix] = np.clip(colour, 0, 255).astype(np.uint8)
    labels = np.zeros(H * W, np.uint8)
    labels[pix] = vpart[fv[np.arange(len(fv)), np.argmax(b, axis=1)]]
    labels = labels.reshape(H, W)
    depth = np.full(H * W, np.inf, np.float32)
    depth[pix] = 1.0 / inv_depth
    depth = depth.reshape(H, W)
    _outline(image, labels)
    o = s // 2
    return Rendering(_final_image(image, s), labels[o::s, o::s].copy(), depth[o::s, o::s].copy())


def _outline(image: np.ndarray, labels: np.ndarray) -> None:
    """Darken hand pixels next to the other hand or the background (reads better where hands touch)."""
    import cv2

    hand = np.minimum(labels, NUM_PARTS + 1)
    hand[(hand > 0) & (hand <= NUM_PARTS)] = 1
    hand[hand > NUM_PARTS] = 2
    kernel = np.ones((3, 3), np.uint8)
    edge = (cv2.dilate(hand, kernel) != cv2.erode(hand, kernel)) & (hand > 0)
    image[edge] = (image[edge] * 0.72).astype(np.uint8)


def _final_image(image: np.ndarray, s: int) -> np.ndarray:
    if s == 1:
        return image
    import cv2

    return cv2.resize(image, (image.shape[1] // s, image.shape[0] // s), interpolation=cv2.INTER_AREA)


class HandRenderer:
    """Renders frames of hand parameters with one mesh detail ("refined" by default) and camera."""

    def __init__(self, camera: Camera, detail: str = "refined", background_style: str = "gradient",
                 supersample: int = 1) -> None:
        from handviewer.hand import HandModel

        self.camera, self.background_style, self.supersample = camera, background_style, supersample
        self.model = HandModel(detail)

    def vertices(self, params_right, params_left) -> np.ndarray:
        """(T, 2, V, 3) mm camera frame (left mirrored) for right-hand params of both hands."""
        from handviewer.synth.scenes import hand_vertices

        return hand_vertices(self.model, params_right, params_left)

    def render_vertices(self, vertices: np.ndarray) -> Rendering:
        """One frame from (2, V, 3) mm camera-frame vertices of this renderer's detail."""
        return render_hands(vertices, (self.model.faces, self.model.faces_left), self.model.parts, self.camera,
                            self.background_style, self.supersample)

    def render(self, params_right, params_left, index: int = 0) -> Rendering:
        """Frame `index` of HandParams batches of the right hand and the (mirrored) left hand."""
        return self.render_vertices(self.vertices(params_right[index], params_left[index])[0])

    def render_sequence(self, sequence):
        """Yields one Rendering per frame of a `TwoHandSequence` (vertices computed in one batch)."""
        verts = self.vertices(sequence.params_right, sequence.params_left)
        for frame in verts:
            yield self.render_vertices(frame)


def joint_visibility(joints: np.ndarray, rendering: Rendering, camera: Camera, tolerance_mm: float = 25.0,
                     radius: int = 1) -> np.ndarray:
    """(2, 21) bool: which joints of a rendered frame the camera sees.

    joints : (2, 21, 3) mm camera frame (right, left). A joint is visible when, at some pixel within
             `radius` of its projection, the image shows its own hand and the visible surface lies
             at most `tolerance_mm` in front of it (joints sit inside the flesh, 7-21 mm under the
             skin); another hand or another finger in front hides it. Outside the image: not visible.
    """
    from handviewer.io import project

    uv = project(np.asarray(joints, dtype=np.float64), camera)  # (2, 21, 2)
    out = np.zeros(uv.shape[:2], bool)
    H, W = rendering.part_mask.shape
    for h in range(2):
        own = (rendering.part_mask >= 1 + NUM_PARTS * h) & (rendering.part_mask <= NUM_PARTS * (h + 1))
        for j in range(uv.shape[1]):
            if not np.isfinite(uv[h, j]).all():
                continue
            x, y = np.round(uv[h, j]).astype(int)
            x0, x1, y0, y1 = max(x - radius, 0), min(x + radius + 1, W), max(y - radius, 0), min(y + radius + 1, H)
            if x0 >= x1 or y0 >= y1:
                continue
            near = rendering.depth[y0:y1, x0:x1] >= joints[h, j, 2] - tolerance_mm
            out[h, j] = bool((own[y0:y1, x0:x1] & near).any())
    return out
