"""2D hand detection (handviewer.detect) on real material in ../shared/data, step by step.

    python benchmarks/bench_detect.py [--data ../shared/data] [--only images|videos|pipeline|world]

Images (eval_2hand_2d: 11 images, 22 labelled hands, in our joint order): per variant, hands found
(a detection within half a hand size of a labelled hand, one to one), handedness right/wrong (hands
with a known side), mean 2D error of the found hands (px, labelled joints), PCK at 0.1 x hand size
(all labelled joints of all 22 hands; a hand not found counts as wrong). Hand size: the diagonal of
the labelled joints' box. Variants: MediaPipe Hands with its labels as given; labels swapped (it
assumes a mirrored image); + a second look with the found hand masked.

Videos of two hands (no labels): per variant, frames with both hands, frames with at least one,
handedness switches (consecutive frames where the hand in one slot is the hand that was in the
other slot), "doubled" (frames whose two hands sit on one hand: most keypoints of one inside the
other's outline; hands overlapping in the image count too), ms per frame, and "in span": hands found among the frames from the first to the last
frame where the default variant finds both hands (a proxy for "both hands in view"; checked by eye
on asl_different: the hands rest out of view before and after). Variants: the detector's labels per frame; + right/left from positions
over time; + the masked second look; + the region look around a missing hand's last place; + the gap
look around a still missing hand's place predicted from the frames before and after.

Whole pipeline from the image alone (`--only pipeline`; the InterHand2.6M folder: 4 images, 6 hands
with 3D truth and each image's camera): detect (MediaPipe Hands + the masked second look) -> uplift ->
IK -> refine, against the truth in the image's camera: hands found in the right slot, MPJPE absolute
(camera frame) and root-relative (wrists subtracted) of those hands, before and after refinement;
beside it the same pipeline from the truth projected to 2D (perfect keypoints: what the uplift alone
costs) and MediaPipe's world landmarks root-relative (its own 3D, wrist-centred, no rotation fitted).

World landmarks as 3D shape evidence (`--only world`; the same InterHand2.6M images, each also
mirrored left-right, so 12 hand views of 6 hands): each labelled hand is looked for in a region around
its labelled place (MediaPipe's region look: the question here is the 3D evidence of a found hand, not
detection); for the hands found, the uplift + IK from the found 2D keypoints (both hands of the image,
its camera) against MediaPipe's world landmarks and their combinations, root-relative MPJPE (wrists
subtracted, no rotation fitted) and PA-MPJPE (after the best similarity transform: the shape alone).
Nothing is written beside the data.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from handviewer.detect.mediapipe_backend import MediaPipeHands
from handviewer.detect.track import dedupe
from handviewer.detect.video import DetectOptions, detect_video, inside_share, look_in_region, mask_hand, _new

VIDEOS = ["slp_website_asl/asl_house.mp4", "slp_website_asl/asl_different.mp4", "slp_pose_extra/SOUP.mp4",
          "slp_pose_extra/sample-data_video.mp4", "slp_pose_video/test_video.mp4"]


def hand_size(xy: np.ndarray) -> float:
    return float(np.hypot(*(xy.max(0) - xy.min(0))))


def match(gt_hands, found):
    """One-to-one: each labelled hand to the nearest unused detection within half its size."""
    pairs, used = [], set()
    for g in gt_hands:
        xyv = np.asarray(g["keypoints_xyv"], float)
        vis = xyv[:, 2] > 0
        size = hand_size(xyv[vis, :2])
        best = None
        for j, h in enumerate(found):
            if j in used:
                continue
            err = np.linalg.norm(h.xy[vis] - xyv[vis, :2], axis=1)
            if err.mean() < 0.5 * size and (best is None or err.mean() < best[1].mean()):
                best = (j, err)
        if best:
            used.add(best[0])
        pairs.append((g, xyv, vis, size, None if best is None else (found[best[0]], best[1])))
    return pairs


def images(data: Path, detector: MediaPipeHands) -> None:
    import cv2

    root = data / "eval_2hand_2d"
    doc = json.loads((root / "annotations.json").read_text())
    variants = {"labels as given": ("given", False), "labels swapped (ours)": ("swapped", False),
                "+ masked second look": ("swapped", True)}
    rows = {}
    for name, (labels, masked) in variants.items():
        found_n = right = wrong = 0
        errs, hits, joints = [], 0, 0
        for item in doc["items"]:
            image = cv2.cvtColor(cv2.imread(str(root / item["image"])), cv2.COLOR_BGR2RGB)
            found = dedupe(detector.detect_image(image))
            if masked and len(found) == 1:
                found += _new(found, detector.detect_image(mask_hand(image, found[0])))[:1]
            for g, xyv, vis, size, hit in match(item["hands"], found):
                joints += int(vis.sum())
                if hit is None:
                    continue
                h, err = hit
                found_n += 1
                errs.append(err.mean())
                hits += int((err < 0.1 * size).sum())
                side = h.side if labels == "swapped" else {"right": "left", "left": "right"}[h.side]
                if g["side"] in ("right", "left"):
                    right += side == g["side"]
                    wrong += side != g["side"]
        total = sum(len(i["hands"]) for i in doc["items"])
        rows[name] = (found_n, total, right, wrong, float(np.mean(errs)) if errs else float("nan"), hits / joints)
    print(f"\nimages: {root}")
    print(f"{'variant':28s} {'found':>7s} {'side ok/wrong':>14s} {'2D err px':>10s} {'PCK@0.1':>8s}")
    for name, (f, t, r, w, e, p) in rows.items():
        print(f"{name:28s} {f:>3d}/{t:<3d} {r:>7d}/{w:<6d} {e:10.1f} {p:8.1%}")


def _span(present: np.ndarray) -> tuple[int, int] | None:
    """Frames from the first to the last with both hands found (both hands taken to be in view there)."""
    both = np.flatnonzero(present.all(1))
    return (int(both[0]), int(both[-1]) + 1) if len(both) else None


def switches(kp: np.ndarray) -> int:
    """Consecutive frames where a hand moves to the other slot (positions compared)."""
    present = np.isfinite(kp[..., 0]).all(-1)
    n = 0
    for t in range(1, len(kp)):
        for s in (0, 1):
            if not present[t, s]:
                continue
            here = kp[t, s, :, :2]
            size = max(hand_size(here), 10.0)
            d = [np.linalg.norm(here - kp[t - 1, k, :, :2], axis=1).mean() / size if present[t - 1, k] else np.inf for k in (0, 1)]
            n += int(d[1 - s] < 0.5 and d[1 - s] < d[s])
    return n


def doubled(kp: np.ndarray) -> int:
    """Frames whose two hands sit on one hand: most of one's keypoints inside the other's outline
    (the detector or a second look that found one hand twice; hands overlapping in the image can
    count too)."""
    present = np.isfinite(kp[..., 0]).all(-1).all(-1)
    return sum(max(inside_share(kp[t, 0, :, :2], kp[t, 1, :, :2]), inside_share(kp[t, 1, :, :2], kp[t, 0, :, :2])) > 0.5
               for t in np.flatnonzero(present))


def videos(data: Path, detector_factory) -> None:
    variants = {"+ gap look (default)": DetectOptions(),
                "detector labels": DetectOptions(masked=False, region=False, sides=False, gap=False),
                "+ sides over time": DetectOptions(masked=False, region=False, gap=False),
                "+ masked second look": DetectOptions(region=False, gap=False),
                "+ region look": DetectOptions(gap=False)}
    print(f"\nvideos: {data}")
    print(f"{'video':28s} {'variant':26s} {'both':>9s} {'>=1':>9s} {'in span':>9s} {'switches':>8s} {'doubled':>7s} {'ms/frame':>8s}")
    spans: dict = {}
    for rel in VIDEOS:
        path = data / rel
        if not path.exists():
            print(f"{rel}: missing, skipped")
            continue
        for name, options in variants.items():
            detector = detector_factory()
            start = time.perf_counter()
            det = detect_video(path, detector, options)
            ms = 1000 * (time.perf_counter() - start) / len(det.keypoints)
            detector.close()
            p = det.present
            n = len(p)
            span = spans.setdefault(rel, _span(p))  # the default variant's first run sets it: see the docstring
            found = int(p[span[0]:span[1]].sum()) if span else 0
            total = 2 * (span[1] - span[0]) if span else 0
            print(f"{Path(rel).name:28s} {name:26s} {int(p.all(1).sum()):>3d}/{n:<3d}   {int(p.any(1).sum()):>3d}/{n:<3d}  "
                  f"{found:>3d}/{total:<3d}  {switches(det.keypoints):8d} {doubled(det.keypoints):7d} {ms:8.0f}")


def _hands_2d(found) -> np.ndarray:
    """(2, 21, 3) px + confidence in our slots (right, left) from detected hands; NaN where none."""
    kp = np.full((2, 21, 3), np.nan, np.float32)
    for h in found:
        slot = 0 if h.side == "right" else 1
        if np.isnan(kp[slot]).all():
            kp[slot, :, :2], kp[slot, :, 2] = h.xy, h.score
    return kp


def _errors(estimate: np.ndarray, truth: np.ndarray) -> tuple[list[float], list[float]]:
    """Per hand present in both (2, 21, 3) mm: MPJPE absolute and root-relative (valid joints)."""
    absolute, relative = [], []
    for s in (0, 1):
        valid = np.isfinite(truth[s]).all(-1)
        if not valid.any() or not np.isfinite(estimate[s]).all() or not valid[0]:
            continue
        absolute.append(float(np.linalg.norm(estimate[s][valid] - truth[s][valid], axis=-1).mean()))
        rel_e, rel_t = estimate[s] - estimate[s, :1], truth[s] - truth[s, :1]
        relative.append(float(np.linalg.norm(rel_e[valid] - rel_t[valid], axis=-1).mean()))
    return absolute, relative


def _interhand_truth(data: Path):
    """(folder, image files, `load_interhand_folder` truth) of the InterHand2.6M sample folder under
    `data`, or None (said) when it is missing."""
    from handviewer.io import open_frames
    from handviewer.io.interhand_folder import load_interhand_folder

    folder = data / "interhand26m_mmpose_samples"
    if not folder.exists():
        print(f"{folder}: missing, skipped")
        return None
    with open_frames(folder) as frames:
        files, size = list(frames.files), frames.size
    return folder, files, load_interhand_folder(folder, files, size)


def pipeline_from_images(data: Path, detector: MediaPipeHands) -> None:
    """The InterHand2.6M frames from the image alone: see the module docstring."""
    import cv2

    from handviewer.pipeline.run import FrameBatch, run
    from handviewer.pipeline.settings import RefineSettings
    from handviewer.pipeline.stages import Pipeline
    from handviewer.progress import drain

    found = _interhand_truth(data)
    if found is None:
        return
    folder, files, truth = found
    detected, world = [], []
    for file in files:
        image = cv2.cvtColor(cv2.imread(str(file)), cv2.COLOR_BGR2RGB)
        found = dedupe(detector.detect_image(image))
        if len(found) == 1:
            found += _new(found, detector.detect_image(mask_hand(image, found[0])))[:1]
        detected.append(_hands_2d(found))
        w = np.full((2, 21, 3), np.nan, np.float32)
        for h in found:
            slot = 0 if h.side == "right" else 1
            if h.world is not None and np.isnan(w[slot]).all():
                w[slot] = h.world - h.world[0]
        world.append(w)
    pipeline = Pipeline("cpu")
    idx = np.arange(len(files))
    rows = {}
    for name, keypoints in (("detected 2D", np.stack(detected)), ("truth projected to 2D", truth.keypoints)):
        batch = FrameBatch(idx, np.asarray(keypoints, np.float32), truth.K)
        results = drain(run(pipeline, batch, RefineSettings(device="cpu"), meshes=False))
        for stage in ("before", "after"):
            absolute, relative = [], []
            for r, gt in zip(results, truth.joints):
                a, b = _errors(getattr(r, stage).joints, gt)
                absolute += a
                relative += b
            rows[f"{name}, {'uplift + IK' if stage == 'before' else 'refined'}"] = (absolute, relative)
    rel_world = []
    for w, gt in zip(world, truth.joints):
        for s in (0, 1):
            valid = np.isfinite(gt[s]).all(-1)
            if np.isfinite(w[s]).all() and valid[0]:
                rel_world.append(float(np.linalg.norm(w[s][valid] - (gt[s] - gt[s, :1])[valid], axis=-1).mean()))
    rows["MediaPipe world landmarks"] = ([], rel_world)
    hands = int(np.isfinite(truth.joints).all(-1).any(-1).sum())
    print(f"\nwhole pipeline from the image: {folder} ({len(files)} images, {hands} hands with 3D truth)")
    print(f"{'input, stage':40s} {'hands':>7s} {'MPJPE mm':>9s} {'root-rel mm':>11s}")
    for name, (absolute, relative) in rows.items():
        n = max(len(absolute), len(relative))
        mean = lambda v: f"{np.mean(v):.1f}" if v else "-"  # noqa: E731
        print(f"{name:40s} {n:>3d}/{hands:<3d} {mean(absolute):>9s} {mean(relative):>11s}")


PALM = [0, 5, 9, 13, 17]  # wrist and the four finger MCPs: the hand's orientation


def similarity(a: np.ndarray, b: np.ndarray, scale: bool) -> tuple[np.ndarray, float]:
    """(R, s) minimising |s R (a - mean a) - (b - mean b)| for points a, b (K, 3)."""
    a0, b0 = a - a.mean(0), b - b.mean(0)
    u, sv, vt = np.linalg.svd(a0.T @ b0)
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = (u @ d @ vt).T
    return rotation, float((sv * np.diag(d)).sum() / (a0 ** 2).sum()) if scale else 1.0


def _rel_error(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Root-relative MPJPE (mm) of one hand (21, 3) over the truth's valid joints (wrist valid)."""
    valid = np.isfinite(truth).all(-1)
    return float(np.linalg.norm((estimate - estimate[0])[valid] - (truth - truth[0])[valid], axis=-1).mean())


def _pa_error(estimate: np.ndarray, truth: np.ndarray) -> float:
    """PA-MPJPE (mm): after the best rotation, scale and translation (the shape alone)."""
    valid = np.isfinite(truth).all(-1)
    e, t = estimate[valid], truth[valid]
    rotation, s = similarity(e, t, scale=True)
    return float(np.linalg.norm(s * (e - e.mean(0)) @ rotation.T + t.mean(0) - t, axis=-1).mean())


def _mirrored(image, joints, keypoints, K):
    """An image flipped left-right with its truth: x -> -x in the camera, hands swapped (right <-> left)."""
    width = image.shape[1]
    joints, keypoints, K = joints.copy(), keypoints.copy(), K.copy()
    joints[..., 0] *= -1.0
    keypoints[..., 0] = width - 1 - keypoints[..., 0]
    K[0, 2] = width - 1 - K[0, 2]
    return np.ascontiguousarray(image[:, ::-1]), joints[::-1].copy(), keypoints[::-1].copy(), K


def _found_in_region(detector, image, labelled: np.ndarray):
    """The hand MediaPipe finds in a region around a labelled hand (21, 2) px, or None."""
    ok = np.isfinite(labelled).all(-1)
    centre, span = labelled[ok].mean(0), float(np.ptp(labelled[ok], 0).max())
    for scale in (1.6, 2.2, 3.0):  # a tight crop first; wider ones give the palm detector context
        hands = look_in_region(detector, image, centre, max(scale * span, 96.0))
        if hands:
            best = min(hands, key=lambda h: np.linalg.norm(h.xy.mean(0) - centre))
            return best if np.linalg.norm(best.xy.mean(0) - centre) < 0.5 * span else None
    return None


def world_evidence(data: Path, detector: MediaPipeHands) -> None:
    """World landmarks as 3D shape evidence beside the uplift: see the module docstring."""
    import cv2

    from handviewer.pipeline.run import FrameBatch, run
    from handviewer.pipeline.settings import RefineSettings
    from handviewer.pipeline.stages import Pipeline
    from handviewer.progress import drain

    found = _interhand_truth(data)
    if found is None:
        return
    folder, files, truth = found
    views = []  # (keypoints (2, 21, 3), world (2, 21, 3) wrist-relative mm, K, truth joints (2, 21, 3) mm)
    for i, file in enumerate(files):
        image = cv2.cvtColor(cv2.imread(str(file)), cv2.COLOR_BGR2RGB)
        for mirror in (False, True):
            img, joints, labelled, K = (_mirrored(image, truth.joints[i], truth.keypoints[i], truth.K[i]) if mirror
                                        else (image, truth.joints[i], truth.keypoints[i], truth.K[i]))
            kp, world = np.full((2, 21, 3), np.nan, np.float32), np.full((2, 21, 3), np.nan, np.float32)
            for s in (0, 1):
                hand = _found_in_region(detector, img, labelled[s, :, :2]) if np.isfinite(joints[s, 0]).all() else None
                if hand is not None and hand.world is not None:
                    kp[s, :, :2], kp[s, :, 2] = hand.xy, hand.score
                    world[s] = hand.world - hand.world[0]
            views.append((kp, world, K, joints))
    kps, worlds, Ks, truths = (np.stack(v) for v in zip(*views))
    batch = FrameBatch(np.arange(len(kps)), kps.astype(np.float32), Ks.astype(np.float64))
    uplift = np.stack([r.before.joints for r in drain(run(Pipeline("cpu"), batch, RefineSettings(device="cpu"),
                                                            meshes=False))])
    rows: dict[str, list[float]] = {}
    extras: dict[str, list[float]] = {}
    labelled_views = int(np.isfinite(truths[:, :, 0]).all(-1).sum())
    for u_frame, w_frame, t_frame in zip(uplift, worlds, truths):
        for u, w, t in zip(u_frame, w_frame, t_frame):
            if not (np.isfinite(w).all() and np.isfinite(u).all() and np.isfinite(t[0]).all()):
                continue
            u = u - u[0]
            size_u, size_w = np.linalg.norm(u[9]), np.linalg.norm(w[9])  # wrist -> middle MCP
            turned, _ = similarity(u[PALM], w[PALM], scale=False)
            for name, estimate in (("uplift + IK", u), ("world landmarks", w),
                                   ("world landmarks at the uplift's size", w * size_u / size_w),
                                   ("uplift turned onto the world palm", u @ turned.T),
                                   ("mean of the two", 0.5 * (u + w))):
                rows.setdefault(name, []).append(_rel_error(estimate, t))
            rows.setdefault("PA: uplift + IK", []).append(_pa_error(u, t))
            rows.setdefault("PA: world landmarks", []).append(_pa_error(w, t))
            angle = np.degrees(np.arccos(np.clip((np.trace(turned) - 1.0) / 2.0, -1.0, 1.0)))
            extras.setdefault("palm angle, uplift to world (deg)", []).append(float(angle))
            truth_size = float(np.linalg.norm(t[9] - t[0]))
            extras.setdefault("hand size, truth (mm, wrist to middle MCP)", []).append(truth_size)
            extras.setdefault("hand size, uplift", []).append(float(size_u))
            extras.setdefault("hand size, world landmarks", []).append(float(size_w))
    print(f"\nworld landmarks as shape evidence: {folder} ({len(files)} images and their mirror images, "
          f"{labelled_views} labelled hand views; hands looked for around their labelled place)")
    print(f"{'estimate (root-relative; PA: shape alone)':44s} {'hands':>7s} {'mean mm':>8s} {'median':>7s} "
          f"{'max':>6s}  per hand")
    for name, values in rows.items():
        v = np.array(values)
        print(f"{name:44s} {len(v):>3d}/{labelled_views:<3d} {v.mean():8.1f} {np.median(v):7.1f} {v.max():6.1f}  "
              f"{' '.join(f'{x:.0f}' for x in v)}")
    for name, values in extras.items():
        print(f"{name:44s} mean {np.mean(values):6.1f}  per hand {' '.join(f'{x:.0f}' for x in values)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--only", choices=("images", "videos", "pipeline", "world"), help="one section (default: all)")
    args = parser.parse_args()
    data = args.data.resolve()
    if not data.exists():
        print(f"no real data at {data}: nothing to measure")
        return 0
    if args.only in (None, "images", "pipeline", "world"):
        detector = MediaPipeHands()
        if args.only in (None, "images"):
            images(data, detector)
        if args.only in (None, "pipeline"):
            pipeline_from_images(data, detector)
        if args.only in (None, "world"):
            world_evidence(data, detector)
        detector.close()
    if args.only in (None, "videos"):
        videos(data, MediaPipeHands)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
