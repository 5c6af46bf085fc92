"""The bundled sample clip: a rendered synthetic two-hand video with ground truth and corrupted predictions.

`make_sample(out_dir)` writes (see README_TEMPLATE for what each file holds):
  video.mp4         rendered frames (refined meshes), mp4v, 640x480, 30 fps
  keypoints.json    2D keypoints (our format): ground truth projected + detector-like noise, occluded joints dropped
  predictions.json  3D joints (our format) with estimator-like errors: many frames intersect
  ground_truth.npz  ground-truth 3D joints, hand parameters, exact 2D projections, per-frame volumes, camera
  camera.json       the intrinsics
  README.md         what, units, how it was made
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator
from pathlib import Path

import numpy as np

from handviewer.io import Camera, Joints3D, Keypoints2D, default_camera, project, save_camera, save_own
from handviewer.io.export import export_npz
from handviewer.synth.names import SAMPLE_KIND

README_TEMPLATE = """# Sample clip (synthetic)

A synthetic clip of two interacting hands ({kind}), {frames} frames, made by `handviewer.synth`:

    python -m handviewer.synth.cli make-sample --out {out} --frames {frames} --seed {seed} --kind {kind}

Conventions (DESIGN.md section 4): millimetres for 3D, pixels for 2D; camera frame OpenCV (x right,
y down, z forward); 21 joints per hand in MediaPipe order (0 wrist, 1-4 thumb CMC..tip, 5-8 index
MCP..tip, ... 17-20 pinky); hands right then left, arrays (T, 2, 21, C); missing = NaN (null in JSON);
frame indices 0..{last}. The left hand is a mirrored right hand (x -> -x) of the hand model.

| file | content |
|---|---|
| `video.mp4` | {width}x{height}, {fps:g} fps, mp4v; both hands rendered from the `refined` meshes of the ground truth (Lambert shading, painter's algorithm; right hand warm tone, left hand cooler). Read with `handviewer.io.open_frames`. |
| `keypoints.json` | 2D keypoints, our format (`handviewer.io.load_own`): the ground-truth joints projected with the camera plus detector-like noise: N(0, 1.5 px), confidence U(0.85, 0.97); 6 % uncertain joints (confidence 0.2-0.5, N(0, 5 px)); 2 % dropped; joints hidden in the rendered frame (by the other hand or another finger, from the part mask and depth) dropped with probability 0.5, else uncertain. {dropped:.1%} of all joints are NaN. |
| `predictions.json` | 3D joints of both hands, our format (`handviewer.io.load_predictions` / `load_own`), mm, camera frame: the ground truth with estimator-like errors (`handviewer.synth.corrupt`): each hand turned 5-15 deg about its wrist, the left hand moved 10-30 mm along the camera axis (mostly towards the right hand) and a little sideways, finger angles +-4 deg. MPJPE to the ground truth {mpjpe:.1f} mm. |
| `ground_truth.npz` | `handviewer.io.load_own`/`np.load`: `joints` (T, 2, 21, 3) float32 mm; `keypoints_2d` exact projections (confidence 1); `camera_K`, `camera_size`; hand-model parameters `rot_right`, `trans_right`, `bones_right`, `angles_right` and the same `_left` (right-hand parameters of the mirrored left hand: left joints = mirror_x(HandModel().joints(params_left))); `gap_mm`, `approach` (T, 3); `gt_intersection_cm3` and `pred_intersection_cm3` (T,), ground-truth intersection volumes of the ground truth and of the corrupted predictions (count_intersections on the plain meshes, 50^3 grid; NaN = not computed); `visible` (T, 2, 21) bool. |
| `camera.json` | intrinsics: `K` (3x3, px), `width`, `height` (`handviewer.io.load_camera`). |

Figures of this clip: frames with a ground-truth intersection above 0.1 cm^3: {gt_share}; frames of
the predictions above 0.1 cm^3: {pred_share}. Seed {seed}; handviewer {version}.
"""

Progress = tuple[float, str]


def _share(volumes: np.ndarray) -> str:
    done = np.isfinite(volumes)
    if not done.any():
        return "not computed"
    return f"{int((volumes[done] > 0.1).sum())} of {int(done.sum())} ({(volumes[done] > 0.1).mean():.0%})"


def _write_video(path: Path, renderer, sequence, fps: float, camera: Camera):
    """Render every frame into an mp4v video written atomically; yields (fraction, visibility (2, 21))."""
    import cv2

    from handviewer.synth.raster import joint_visibility

    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, camera.size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write mp4v video to {tmp}")
    try:
        for i, rendering in enumerate(renderer.render_sequence(sequence)):
            writer.write(np.ascontiguousarray(rendering.image[..., ::-1]))
            yield (i + 1) / len(sequence), joint_visibility(sequence.joints[i], rendering, camera)
        writer.release()
        os.replace(tmp, path)
    finally:
        writer.release()
        tmp.unlink(missing_ok=True)


def iter_make_sample(out_dir: str | Path, frames: int = 100, seed: int = 7, kind: str | None = SAMPLE_KIND,
                     width: int = 640, height: int = 480, fps: float = 30.0, measure: bool = True,
                     supersample: int = 2) -> Generator[Progress, None, dict]:
    """`make_sample` as a generator of (fraction, message); returns a summary dict (paths, figures)."""
    from handviewer import __version__
    from handviewer.synth.corrupt import corrupt_sequence
    from handviewer.synth.raster import HandRenderer
    from handviewer.synth.scenes import intersection_volumes, random_sequence

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    camera = default_camera(width, height)
    yield 0.0, "building and verifying the ground-truth sequence" if measure else "building the sequence"
    seq = random_sequence(frames, seed=seed, camera=camera, fps=fps, kind=kind, verify=measure)
    gt_vol = np.asarray(seq.intersection_cm3, dtype=np.float64)
    visible = np.zeros((frames, 2, 21), bool)
    renderer = HandRenderer(camera, "refined", supersample=supersample)
    for i, (fraction, vis) in enumerate(_write_video(out / "video.mp4", renderer, seq, fps, camera)):
        visible[i] = vis
        yield 0.3 + 0.2 * fraction, f"rendered {i + 1}/{frames}"
    pred = corrupt_sequence(seq, seed=seed, visible=visible)
    pred_vol = np.full(frames, np.nan)
    if measure:
        for t in range(frames):
            pred_vol[t] = intersection_volumes(pred.params_right[t], pred.params_left[t])[0]
            yield 0.5 + 0.45 * (t + 1) / frames, f"prediction intersections {t + 1}/{frames}"
    index = np.arange(frames)
    save_own(out / "keypoints.json", keypoints=Keypoints2D(pred.keypoints, index), camera=camera)
    save_own(out / "predictions.json", joints=Joints3D(pred.joints, index), camera=camera)
    exact = np.concatenate([project(seq.joints, camera), np.ones(seq.joints.shape[:-1] + (1,), np.float32)], -1)
    params = {f"{k}_{side}": v for side, p in (("right", seq.params_right), ("left", seq.params_left))
              for k, v in p.numpy().items()}
    params.update(gap_mm=seq.gap_mm, approach=seq.approach, gt_intersection_cm3=gt_vol,
                  pred_intersection_cm3=pred_vol, visible=visible, fps=np.array(fps), seed=np.array(seed))
    export_npz(out / "ground_truth.npz", Joints3D(seq.joints, index), params=params,
               keypoints=Keypoints2D(exact, index), camera=camera)
    save_camera(out / "camera.json", camera)
    mpjpe = float(np.nanmean(np.linalg.norm(pred.joints - seq.joints, axis=-1)))
    dropped = float(np.isnan(pred.keypoints[..., 0]).mean())
    readme = README_TEMPLATE.format(
        kind=seq.kinds[0], frames=frames, out=out.as_posix(), seed=seed, last=frames - 1, width=width, height=height,
        fps=fps, dropped=dropped, mpjpe=mpjpe, gt_share=_share(gt_vol), pred_share=_share(pred_vol), version=__version__)
    (out / "README.md").write_text(readme, encoding="utf-8")
    yield 1.0, "done"
    return {"out": out, "kind": seq.kinds[0], "gt_intersection_cm3": gt_vol, "pred_intersection_cm3": pred_vol,
            "mpjpe_mm": mpjpe, "dropped_share": dropped, "seconds": time.monotonic() - start,
            "bytes": sum(p.stat().st_size for p in out.iterdir() if p.is_file())}


def make_sample(out_dir: str | Path, frames: int = 100, seed: int = 7, kind: str | None = SAMPLE_KIND,
                progress: Callable[[float, str], None] | None = None, **kwargs) -> dict:
    """Write the sample clip folder (module docstring) and return a summary.

    kind     : interaction kind (`scenes.SCENE_KINDS`; None: drawn from the seed).
    measure  : compute the ground-truth intersection volume of every ground-truth and predicted
               frame (about 0.3-1 s each); False leaves them NaN.
    progress : called with (fraction, message).
    Other keywords: width, height, fps, supersample (anti-aliasing of the video).
    """
    from handviewer.progress import drain

    return drain(iter_make_sample(out_dir, frames, seed, kind, **kwargs), progress)
