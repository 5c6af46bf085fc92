"""Finding and loading what goes with a video: 2D keypoints, 3D predictions, camera.

Beside `clip.mp4` we look for (first match wins): keypoints `clip.keypoints.json|npz`,
`keypoints.json|npz`, an OpenPose folder `clip_openpose/` or `openpose/`, COCO-WholeBody predictions
`clip.wholebody.json` or `clip.*.json` naming mmpose/rtmw/dwpose/wholebody, a folder `PREFIX_openpose*/`
whose PREFIX starts the clip's name; predictions
`clip.predictions.json|npz`, `predictions.json|npz`; camera `clip.camera.json`, `camera.json`.
Without a camera file the documented default of `handviewer.io.default_camera` is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from handviewer.hand.skeleton import MIN_VISIBLE, hand_present
from handviewer.uplift.inputs import visibility


@dataclass
class VideoInputs:
    """keypoints (T, 2, 21, 3) px + confidence or None; predictions (T, 2, 21, 3) mm or None; K (3, 3);
    the files they came from (absolute paths, "" for none, "default" for the default camera)."""

    keypoints: np.ndarray | None
    predictions: np.ndarray | None
    K: np.ndarray
    sources: dict[str, str]
    size: tuple[int, int] | None = None  # (width, height) px of the frames
    notes: list[str] = field(default_factory=list)  # what loading changed or dropped, for `warnings`
    K_frames: np.ndarray | None = None  # (T, 3, 3) px: each frame's own intrinsics (InterHand2.6M), else None
    loaded: list[str] = field(default_factory=list)  # what was read besides the usual files, for the user

    def messages(self) -> list[str]:
        """What the user is told on opening: what was loaded, then the warnings."""
        return list(self.loaded) + self.warnings()

    def intrinsics(self, indices) -> np.ndarray:
        """(N, 3, 3) float64 px: the intrinsics of the given frames (their own, else the one K)."""
        idx = np.asarray(indices, dtype=np.int64)
        if self.K_frames is not None:
            return np.array(self.K_frames[idx], dtype=np.float64)
        return np.broadcast_to(np.asarray(self.K, np.float64), (len(idx), 3, 3)).copy()

    def camera(self):
        """The intrinsics used, as a `handviewer.io.Camera` (needs `size`)."""
        from handviewer.io import Camera

        return Camera(self.K, *self.size)

    def predicted_frames(self, frame_count: int) -> np.ndarray:
        """(frame_count,) bool: frames whose initial estimate comes from the 3D predictions (any
        predicted value); the others are uplifted from their 2D keypoints."""
        if self.predictions is None:
            return np.zeros(frame_count, bool)
        return np.isfinite(self.predictions).any((1, 2, 3))

    def warnings(self) -> list[str]:
        """What looks wrong with inputs that loaded fine (partial coverage, hands at the origin)."""
        out = []
        n = len(self.keypoints) if self.keypoints is not None else len(self.predictions) if self.predictions is not None else 0
        if self.predictions is not None:
            on_predictions = self.predicted_frames(n)
            covered = int(on_predictions.sum())
            if covered < n:
                rest = "estimated from the 2D keypoints" if self.keypoints is not None else "left empty"
                out.append(f"the 3D predictions cover {covered} of {n} frames; the others are {rest}")
            if self.keypoints is not None:
                # Hands the pipeline uplifts from the keypoints in frames on predictions: a hand with
                # fewer than MIN_VISIBLE predicted joints is missing (`Pipeline.initial_from_joints`).
                predicted = hand_present(self.predictions)  # (T, 2)
                seen = visibility(torch.as_tensor(np.asarray(self.keypoints, np.float32)))[1].numpy()
                filled = int((on_predictions[:, None] & ~predicted & seen).sum())
                if filled:
                    out.append(f"{filled} hand(s) missing from frames the 3D predictions cover are estimated "
                               "from the 2D keypoints (placed beside the predicted other hand where there is one)")
            at_origin = int((np.nan_to_num(np.abs(self.predictions), nan=1.0).max(-1).max(-1) < 1e-6).any(-1).sum())
            if at_origin:
                out.append(f"{at_origin} frame(s) of the 3D predictions have a hand with every joint at 0: "
                           "predictions must be in mm in the camera frame")
        if self.keypoints is not None:
            covered = int(np.isfinite(self.keypoints[..., :2]).all(-1).any((1, 2)).sum())
            if covered < n:
                out.append(f"the 2D keypoints cover {covered} of {n} frames")
        from handviewer.pipeline.plausible import camera_warnings, keypoint_warnings, prediction_warnings

        out += prediction_warnings(self.predictions) + keypoint_warnings(self.keypoints)
        if self.size is not None:
            for K in self._distinct_K():
                out += camera_warnings(K, self.size)
        return list(self.notes) + out


    def _distinct_K(self) -> list[np.ndarray]:
        if self.K_frames is None:
            return [self.K]
        return list(np.unique(np.asarray(self.K_frames).round(6), axis=0))


def _first(candidates: list[Path]) -> Path | None:
    return next((p for p in candidates if p.exists()), None)


def find_beside(video: Path) -> dict[str, Path | None]:
    d, stem = video.parent, video.stem
    return {
        "keypoints": _first([d / f"{stem}.keypoints.json", d / f"{stem}.keypoints.npz", d / "keypoints.json",
                             d / "keypoints.npz", d / f"{stem}_openpose", d / "openpose",
                             *_wholebody_beside(d, stem), *_openpose_beside(d, stem)]),
        "predictions": _first([d / f"{stem}.predictions.json", d / f"{stem}.predictions.npz", d / "predictions.json",
                               d / "predictions.npz"]),
        "camera": _first([d / f"{stem}.camera.json", d / "camera.json"]),
    }


def _wholebody_beside(folder: Path, stem: str) -> list[Path]:
    """COCO-WholeBody predictions of the clip (mmpose, RTMW, DWPose): `clip.wholebody.json`, or any
    `clip.*.json` whose name says mmpose, rtmw, dwpose or wholebody (`SOUP.mmpose_wholebody_pred.json`)."""
    named = sorted(p for p in folder.glob(f"{_glob_escape(stem)}.*.json")
                   if any(w in p.name[len(stem):].lower() for w in ("mmpose", "rtmw", "dwpose", "wholebody")))
    return [folder / f"{stem}.wholebody.json", *named]


def _openpose_beside(folder: Path, stem: str) -> list[Path]:
    """A folder beside the clip named PREFIXopenpose... where the clip's name starts with PREFIX
    (`sample-data_openpose_json/` for `sample-data_video.mp4`), if there is only one."""
    named = [p for p in folder.iterdir() if p.is_dir() and "openpose" in p.name.lower()] if folder.is_dir() else []
    named = [p for p in named if (prefix := p.name[: p.name.lower().index("openpose")].rstrip("_-. "))
             and stem.lower().startswith(prefix.lower())]
    return named if len(named) == 1 else []


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def load_keypoints(path: Path, frame_count: int) -> np.ndarray:
    """Our JSON/NPZ or an OpenPose folder/file (chosen by content) -> (frame_count, 2, 21, 3)."""
    from handviewer.io.keypoints import load_keypoints_any

    return load_keypoints_any(path).dense(frame_count)


def load_video_inputs(video: str | Path | None, frame_count: int, size: tuple[int, int],
                      keypoints: str | Path | None = None, predictions: str | Path | None = None,
                      camera: str | Path | None = None, detect: bool = True, progress=None) -> VideoInputs:
    """What goes with `video` (see the module docstring). With neither keypoints nor predictions given
    or beside it and `detect`, its hands are detected (`handviewer.detect.cached_or_detect`: cached
    beside the video or per user, found again next time; `progress(fraction, message)` reports it)."""
    from handviewer.io import default_camera, load_camera, load_predictions

    found = find_beside(Path(video)) if video else {"keypoints": None, "predictions": None, "camera": None}
    kp_path = Path(keypoints) if keypoints else found["keypoints"]
    if keypoints is None and kp_path is not None and detect:
        from handviewer.detect.cache import is_stale

        if is_stale(kp_path):
            kp_path = None  # hands detected beside it by an older detection: detected again below
    pred_path = Path(predictions) if predictions else found["predictions"]
    cam_path = Path(camera) if camera else found["camera"]
    detected, loaded = [], []
    interhand = _interhand(video, frame_count, size)
    if interhand is not None:
        loaded.append(interhand.describe() + _interhand_use(kp_path, pred_path, cam_path))
    if video and detect and kp_path is None and pred_path is None and interhand is None:
        from handviewer.detect.cache import cached_or_detect

        kp_path, note = cached_or_detect(video, progress)
        detected.append(note)
    from handviewer.io.keypoints import load_keypoints_any

    kp_seq = load_keypoints_any(kp_path) if kp_path else None
    pred_seq = load_predictions(pred_path) if pred_path else None
    cam = load_camera(cam_path, *size) if cam_path else default_camera(*size)
    sources = {"video": _absolute(video), "keypoints": _absolute(kp_path), "predictions": _absolute(pred_path),
               "camera": _absolute(cam_path) or "default"}
    notes = detected + [f"the {name} hold {int((seq.frame_indices >= frame_count).sum())} frame(s) past the video's last "
             f"frame ({frame_count - 1}); they are ignored" for name, seq in (("2D keypoints", kp_seq), ("3D predictions", pred_seq))
             if seq is not None and len(seq.frame_indices) and int(seq.frame_indices.max()) >= frame_count]
    kp = kp_seq.dense(frame_count) if kp_seq is not None else None
    pred = pred_seq.dense(frame_count) if pred_seq is not None else None
    K_frames = None
    if interhand is not None:
        data_json, camera_json, joint_json = (_absolute(p) for p in interhand.files)
        if kp is None:
            kp, sources["keypoints"] = interhand.keypoints, data_json
        if pred is None:
            pred, sources["predictions"] = interhand.joints, joint_json
        if cam_path is None:
            K_frames, sources["camera"] = interhand.K, camera_json
            cam = _camera_of(interhand, cam, size)
    if pred is not None:
        pred, absurd = without_absurd(pred)
        if absurd:
            notes.append(f"{absurd} joint(s) of the 3D predictions lie more than {ABSURD_MM / 1e6:g} km from the camera "
                         "and are treated as missing")
    return VideoInputs(kp, pred, np.asarray(cam.K, dtype=np.float64), sources, tuple(size), notes, K_frames, loaded)


def _interhand(video, frame_count: int, size: tuple[int, int]):
    """The InterHand2.6M annotations of an image folder (`handviewer.io.interhand_folder`), or None."""
    if not video or not Path(video).is_dir():
        return None
    from handviewer.io.interhand_folder import find_interhand_files, load_interhand_folder
    from handviewer.io.video import image_files

    if find_interhand_files(video) is None:
        return None
    files = image_files(Path(video))
    if len(files) != frame_count:
        raise ValueError(f"{video}: {len(files)} images but {frame_count} frames were opened")
    return load_interhand_folder(video, files, tuple(size))


def _interhand_use(kp_path, pred_path, cam_path) -> str:
    """How the annotations are used, given what else was found or passed (those win)."""
    estimate = (f"the 3D predictions {Path(pred_path).name} are the initial estimate" if pred_path else
                "the 3D ground truth is each image's initial estimate (IK fit, then refined)")
    keypoints = (f"2D keypoints from {Path(kp_path).name}" if kp_path else
                 "2D keypoints are the ground truth projected with each image's camera")
    camera = f"every image uses the camera {Path(cam_path).name}" if cam_path else "each image uses its own camera"
    return f"; {estimate}; {keypoints}; {camera}"


def _camera_of(interhand, fallback, size):
    """The camera an export records for a folder of per-image cameras: the first annotated image's."""
    from handviewer.io import Camera

    rows = np.flatnonzero(interhand.annotated)
    return Camera(interhand.K[rows[0]], *size) if len(rows) else fallback


ABSURD_MM = 1e9  # 1,000 km: no camera sees a hand there; such values break the IK's SVD


def without_absurd(joints: np.ndarray) -> tuple[np.ndarray, int]:
    """joints (..., 3) mm with coordinates beyond ABSURD_MM set to NaN (whole joints), and how many."""
    bad = ~(np.abs(np.nan_to_num(joints, nan=0.0)) < ABSURD_MM).all(-1)
    out = np.array(joints, dtype=np.float32, copy=True)
    out[bad] = np.nan
    return out, int(bad.sum())


def _absolute(path) -> str:
    return str(Path(path).resolve()) if path else ""


def fingerprint(path: str | Path) -> list:
    """What identifies an input file or folder's content cheaply: [name, size, mtime_ns] of the file,
    or of every file in the folder (sorted). A changed, replaced or touched input changes it."""
    path = Path(path)
    if not path.exists():
        return [str(path), None]
    # Hidden entries are skipped: an output folder inside an image folder keeps its work folder
    # (.OUT.partial) there, which changes with every batch.
    files = sorted(p for p in path.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(path).parts)) if path.is_dir() else [path]
    return [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files]
