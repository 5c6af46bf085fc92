"""Geometry for the 2D overlay drawn over the video frame (the GUI draws it; no Qt here)."""

from __future__ import annotations

import numpy as np

from handviewer.hand.skeleton import BONES
from handviewer.io.camera import project  # the one pinhole projection (also re-exported here)
from handviewer.pipeline.results import HandsEstimate


def projected_joints(estimate: HandsEstimate | None, K: np.ndarray | None) -> np.ndarray | None:
    """(2, 21, 2) px: the estimate's 3D joints seen by the video camera, or None without K."""
    if estimate is None or K is None:
        return None
    return project(estimate.joints, K)


def visible_bones(points_2d: np.ndarray) -> np.ndarray:
    """(B, 2) joint pairs of the bones whose two ends are finite. points_2d : (21, >=2)."""
    finite = np.isfinite(np.asarray(points_2d)[:, :2]).all(axis=1)
    return BONES[finite[BONES].all(axis=1)]


# Part colours of the 2D segmentation overlay (RGB): palm, thumb, index, middle, ring, pinky.
PART_COLORS_RGB = np.array([(200, 200, 200), (228, 26, 28), (255, 127, 0), (77, 175, 74), (55, 126, 184), (152, 78, 163)],
                           dtype=np.uint8)


def refined_vertex_parts() -> np.ndarray:
    """(V,) int: the part of each vertex of the `refined` mesh (0 palm, 1 thumb .. 5 pinky); cached."""
    global _PARTS
    if _PARTS is None:
        from handviewer.hand import HandModel

        _PARTS = np.asarray(HandModel("refined").parts)
    return _PARTS


_PARTS: np.ndarray | None = None


def part_mask(estimate: HandsEstimate | None, K: np.ndarray | None, size: tuple[int, int],
              vertex_parts: np.ndarray | None = None) -> np.ndarray | None:
    """(H, W) int16 label image of the estimate's meshes seen by the video camera, or None.

    size         : (width, height) px of the frame.
    vertex_parts : (V,) int, the part of each vertex (default: the `refined` mesh's, 0 palm .. 5 pinky).
    Label 0 is background; 1 + 6 * hand + part is that hand's part (hand 0 right, 1 left). Faces are
    painted far to near (painter's algorithm), so where the hands overlap the nearer one shows.
    """
    import cv2

    if estimate is None or K is None or estimate.vertices is None or estimate.faces is None:
        return None
    if vertex_parts is None:
        vertex_parts = refined_vertex_parts()
    if len(vertex_parts) != estimate.vertices.shape[1]:  # another mesh: one part per hand
        vertex_parts = np.zeros(estimate.vertices.shape[1], np.int64)
    w, h = size
    labels = np.zeros((h, w), np.int16)
    tris, depth, label = [], [], []
    for hand in range(2):
        verts, faces = estimate.vertices[hand], estimate.faces[hand]
        if not np.isfinite(verts).all():
            continue
        uv = project(verts.astype(np.float64), K)  # float64 px: the sub-pixel fill below rounds them
        tri = uv[faces]  # (F, 3, 2)
        ok = np.isfinite(tri).all(axis=(1, 2))
        tris.append(tri[ok])
        depth.append(verts[faces[ok], 2].mean(axis=1))
        label.append(1 + 6 * hand + vertex_parts[faces[ok]].max(axis=1))
    if not tris:
        return None
    tri, depth, label = np.concatenate(tris), np.concatenate(depth), np.concatenate(label)
    order = np.argsort(-depth)
    fixed = np.round(tri[order] * 16).astype(np.int32)  # 4 fractional bits for cv2's sub-pixel drawing
    fill = cv2.fillConvexPoly
    for poly, value in zip(fixed, label[order].tolist()):  # about 3,000 faces: keep the loop lean
        fill(labels, poly, value, cv2.LINE_8, 4)
    return labels


def mask_rgba(labels: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """(H, W) labels of `part_mask` -> (H, W, 4) uint8 RGBA: part colours, transparent background."""
    lut = np.zeros((13, 4), np.uint8)  # label -> RGBA, 0 transparent
    lut[1:, :3] = np.concatenate([PART_COLORS_RGB, PART_COLORS_RGB])
    lut[1:, 3] = int(round(255 * alpha))
    return lut[labels]


def mesh_outlines(labels: np.ndarray) -> list[list[np.ndarray]]:
    """Per hand (right, left): the outer contours (K, 2) px of its visible mesh in the label image."""
    import cv2

    out = []
    for hand in range(2):
        region = ((labels >= 1 + 6 * hand) & (labels <= 6 + 6 * hand)).astype(np.uint8)
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        out.append([c[:, 0, :].astype(np.float64) for c in contours if len(c) >= 3])
    return out
