"""Pinhole camera intrinsics: the `Camera` record, defaults, JSON files, projection and back-projection.

Camera frame: OpenCV (x right, y down, z forward), millimetres. Pixels: u right, v down,
(0, 0) at the centre of the top-left pixel, as in OpenCV and InterHand2.6M.
No lens distortion.

Camera JSON (read by `load_camera`, written by `save_camera`), any one of:
    {"K": [[fx, s, cx], [0, fy, cy], [0, 0, 1]], "width": W, "height": H}
    {"fx": fx, "fy": fy, "cx": cx, "cy": cy, "width": W, "height": H}
    {"focal": [fx, fy], "princpt": [cx, cy], "width": W, "height": H}   (InterHand2.6M style)
`width`/`height` may instead be passed to `load_camera`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handviewer.io._files import read_json, write_json
from handviewer.io.errors import FileFormatError

DEFAULT_FOCAL_FACTOR = 1.2
"""`default_camera` focal length in pixels = 1.2 * max(width, height): a 45 degree field of view
along the longer image side, the prior COLMAP uses for unknown cameras (a phone or webcam at
its usual zoom lies between about 40 and 70 degrees)."""


@dataclass(frozen=True, eq=False)
class Camera:
    """Intrinsics of one pinhole camera.

    K      : (3, 3) float64, [[fx, s, cx], [0, fy, cy], [0, 0, 1]], pixels (read-only copy).
    width  : image width in pixels.
    height : image height in pixels.
    """

    K: np.ndarray
    width: int
    height: int

    def __post_init__(self):
        K = np.array(self.K, dtype=np.float64)
        if K.shape != (3, 3) or not np.isfinite(K).all():
            raise ValueError(f"Camera: K must be a finite 3x3 matrix, got shape {K.shape}")
        if not np.allclose(K[2], [0, 0, 1]) or K[1, 0] != 0 or K[0, 0] <= 0 or K[1, 1] <= 0:
            raise ValueError("Camera: K must be [[fx, s, cx], [0, fy, cy], [0, 0, 1]] with fx, fy > 0, "
                             f"got {K.tolist()}")
        width, height = int(self.width), int(self.height)
        if width <= 0 or height <= 0 or (width, height) != (self.width, self.height):
            raise ValueError(f"Camera: width and height must be positive integers, got {self.width}x{self.height}")
        K.flags.writeable = False
        object.__setattr__(self, "K", K)
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "height", height)

    @property
    def fx(self) -> float:
        return float(self.K[0, 0])

    @property
    def fy(self) -> float:
        return float(self.K[1, 1])

    @property
    def cx(self) -> float:
        return float(self.K[0, 2])

    @property
    def cy(self) -> float:
        return float(self.K[1, 2])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return (self.width, self.height)

    def to_dict(self) -> dict:
        """The JSON form: {"K": 3x3 list, "width": W, "height": H}."""
        return {"K": self.K.tolist(), "width": self.width, "height": self.height}

    def __eq__(self, other) -> bool:
        if not isinstance(other, Camera):
            return NotImplemented
        return self.size == other.size and np.array_equal(self.K, other.K)

    def __hash__(self) -> int:
        return hash((self.size, self.K.tobytes()))

    def __repr__(self) -> str:
        return (f"Camera(fx={self.fx:g}, fy={self.fy:g}, cx={self.cx:g}, cy={self.cy:g}, "
                f"size={self.width}x{self.height})")


def intrinsics(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """(3, 3) float64 K from focal lengths and principal point (pixels)."""
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def default_camera(width: int, height: int) -> Camera:
    """The one default camera, used when none is given (by the overlay, the 3D view, the refinement
    and the exports alike): fx = fy = 1.2 * max(width, height), principal point at the image centre.

    The centre is ((width - 1) / 2, (height - 1) / 2): pixel centres are integers (module docstring,
    as in OpenCV), so the image spans -0.5 .. width - 0.5. `project`/`backproject`, the synthetic
    renderer (`handviewer.synth.raster`, cv2 sub-pixel fills) and `render.camera.image_camera` all
    use this convention; width / 2 would put the centre half a pixel off.
    """
    f = DEFAULT_FOCAL_FACTOR * max(width, height)
    return Camera(intrinsics(f, f, (width - 1) / 2.0, (height - 1) / 2.0), width, height)


def load_camera(path: str | Path, width: int | None = None, height: int | None = None) -> Camera:
    """Read a camera JSON file (formats in the module docstring). `width`/`height` override the file's."""
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, dict):
        raise FileFormatError(path, f"expected a JSON object, got {type(data).__name__}")
    try:
        if "K" in data:
            K = np.array(data["K"], dtype=np.float64)
        elif {"fx", "fy", "cx", "cy"} <= data.keys():
            K = intrinsics(*(float(data[k]) for k in ("fx", "fy", "cx", "cy")))
        elif {"focal", "princpt"} <= data.keys():
            (fx, fy), (cx, cy) = data["focal"], data["princpt"]
            K = intrinsics(float(fx), float(fy), float(cx), float(cy))
        else:
            raise FileFormatError(path, "no intrinsics: expected key 'K', or 'fx', 'fy', 'cx', 'cy', "
                                        f"or 'focal' and 'princpt'; found {sorted(data)}")
    except (TypeError, ValueError) as e:
        if isinstance(e, FileFormatError):
            raise
        raise FileFormatError(path, f"intrinsics are not numbers of the right shape: {e}") from e
    width = width if width is not None else data.get("width")
    height = height if height is not None else data.get("height")
    if width is None or height is None:
        raise FileFormatError(path, "image size unknown: add 'width' and 'height' to the file or pass them")
    try:
        return Camera(K, width, height)
    except (TypeError, ValueError) as e:
        raise FileFormatError(path, str(e)) from e


def save_camera(path: str | Path, camera: Camera) -> None:
    """Write `camera` as {"K", "width", "height"} JSON, atomically."""
    write_json(path, camera.to_dict(), indent=2)


def _as_K(K: np.ndarray | Camera) -> np.ndarray:
    K = K.K if isinstance(K, Camera) else np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3):
        raise ValueError(f"K must be (3, 3), got {K.shape}")
    return K


def _is_tensor(x) -> bool:
    """A torch tensor, told without importing torch (io stays torch-free)."""
    return type(x).__module__.startswith("torch")


def project(points, K, min_depth_mm: float | None = None):
    """Project camera-frame points to pixels: u = fx x/z + s y/z + cx, v = fy y/z + cy.

    The one pinhole projection, for numpy arrays and torch tensors alike (indexing and arithmetic
    only, so differentiable in torch).
    points       : (..., 3) mm, camera frame.
    K            : (3, 3) intrinsics or a Camera; or (B..., 3, 3) with B... the leading dims of
                   `points`, e.g. one K per frame (N, 3, 3) for joints (N, 2, 21, 3).
    min_depth_mm : None: NaN where a point is NaN or not in front of the camera (z <= 0).
                   A number: z is clamped to at least this, so every point gets finite pixels and
                   a gradient (the refinement uses 1 mm).
    Returns (..., 2) px. Numpy: computed in float64, float32 for float32 input else float64.
    Torch: in the points' dtype and device (K must be a tensor there too).
    """
    if _is_tensor(points):
        return _pinhole(points, K, min_depth_mm)
    points = np.asarray(points)
    if points.shape[-1:] != (3,):
        raise ValueError(f"points must have shape (..., 3), got {points.shape}")
    K = K.K if isinstance(K, Camera) else np.asarray(K, dtype=np.float64)
    if K.shape[-2:] != (3, 3) or K.shape[:-2] != points.shape[:K.ndim - 2]:
        raise ValueError(f"K must be (3, 3) or (B..., 3, 3) with B... leading the points' {points.shape}, got {K.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = _pinhole(points.astype(np.float64), K, min_depth_mm)
    return uv.astype(np.result_type(points.dtype, np.float32)) if points.dtype.kind == "f" else uv


def _pinhole(points, K, min_depth_mm: float | None):
    """`project` on arrays of one library: points (B..., P..., 3), K (B..., 3, 3) -> (B..., P..., 2).

    Basic slices only (no index lists: on a GPU each would be a host-to-device copy per call).
    """
    ones = (1,) * (points.ndim - K.ndim + 1)  # K's values broadcast over P...
    rows = K[..., :2, :2].reshape(tuple(K.shape[:-2]) + ones + (2, 2))  # [[fx, s], [0, fy]]
    c = K[..., :2, 2].reshape(tuple(K.shape[:-2]) + ones + (2,))  # (cx, cy)
    z = points[..., 2:3]
    if min_depth_mm is not None:
        z = z.clip(min=min_depth_mm)
    xy = points[..., :2] / z  # (..., 2) normalised camera coordinates
    uv = (xy[..., None, :] * rows).sum(-1) + c  # u = x fx + y s, v = x 0 + y fy: exact for s = 0
    if min_depth_mm is None:
        uv[~(points[..., 2] > 0)] = float("nan")  # behind the camera, or NaN
    return uv


def backproject(pixels: np.ndarray, depth: np.ndarray | float, K: np.ndarray | Camera) -> np.ndarray:
    """Lift pixels to camera-frame points at the given depth.

    pixels : (..., 2) px.
    depth  : (...) mm, the z coordinate (not the distance along the ray); broadcasts.
    Returns (..., 3) mm, float64; NaN where a pixel or depth is NaN.
    """
    pixels = np.asarray(pixels, dtype=np.float64)
    if pixels.shape[-1:] != (2,):
        raise ValueError(f"pixels must have shape (..., 2), got {pixels.shape}")
    homog = np.concatenate([pixels, np.ones(pixels.shape[:-1] + (1,))], axis=-1)
    rays = homog @ np.linalg.inv(_as_K(K)).T  # (..., 3), z = 1
    return rays * np.asarray(depth, dtype=np.float64)[..., None]
