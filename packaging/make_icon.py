"""Draw the app icon (assets/icon.png, 256x256) from the project's own hand model.

    python packaging/make_icon.py

Two hands, the right warm and the mirrored left cool, overlapping a little, flat-shaded with the
painter's algorithm (no GL needed). The PNG is committed; rerun this after changing the style.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from handviewer.hand import HandModel

SIZE = 256
OUT = Path(__file__).resolve().parents[1] / "assets" / "icon.png"


def _draw(img: np.ndarray, verts: np.ndarray, faces: np.ndarray, colour: np.ndarray) -> None:
    """Paint triangles far to near; verts (V, 3) in pixels (x, y) with depth z (larger = farther)."""
    tri = verts[faces]  # (F, 3, 3)
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-9
    light = np.clip(-normal @ np.array([0.3, -0.4, -0.87]), 0.0, 1.0)
    for f in np.argsort(-tri[:, :, 2].mean(1)):
        shade = colour * (0.35 + 0.65 * light[f])
        cv2.fillConvexPoly(img, np.round(tri[f, :, :2] * 4).astype(np.int32), shade.tolist(), cv2.LINE_AA, shift=2)


def main() -> None:
    model = HandModel("refined")
    params = model.default_params()
    right = model.vertices(params)[0].numpy().astype(np.float64)
    faces = model.faces
    # View the palm side: the hand's y up the screen; left hand = mirrored, shifted to overlap.
    left = right * np.array([-1.0, 1.0, 1.0])
    both = np.concatenate([right + [35.0, 0, 0], left - [35.0, 0, 0]])
    lo, hi = both.min(0), both.max(0)
    scale = 0.86 * SIZE / (hi[:2] - lo[:2]).max()
    centre = (lo + hi) / 2

    def to_px(v: np.ndarray) -> np.ndarray:
        p = (v - centre) * scale
        return np.stack([SIZE / 2 + p[:, 0], SIZE / 2 - p[:, 1], p[:, 2]], 1)

    img = np.zeros((SIZE, SIZE, 4), np.uint8)
    cv2.circle(img, (SIZE // 2, SIZE // 2), SIZE // 2 - 4, (48, 40, 32, 255), -1, cv2.LINE_AA)
    _draw(img, to_px(left - [35.0, 0, 0]), model.faces_left, np.array([235, 140, 60, 255.0]))  # BGR: blue
    _draw(img, to_px(right + [35.0, 0, 0]) - [0, 0, 1.0], faces, np.array([60, 140, 240, 255.0]))  # orange
    cv2.imwrite(str(OUT), img)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
