"""Frame pipeline figures (issue: frame pipeline).

    python benchmarks/bench_pipeline.py [--clip assets/sample] [--steps 40] [--safe] [--compare-settings] [--only-speed]

1. Evaluation on data with ground truth: a clip folder with `ground_truth.npz` (default: the bundled
   sample, a held-out synthetic sequence whose 3D predictions carry estimator-like errors that make
   the hands intersect, plus noisy 2D keypoints) goes through `handviewer process` (IK of the
   predictions, refinement); before/after: share of intersecting frames, ground-truth intersection
   volume, AVE-P/MAX-P, MPJPE against ground truth, and the share of intersecting frames resolved.
   --compare-settings: the same clip's every third frame refined with several point sets, step
   counts and margins (resolved share, volume, MPJPE, time), from the 3D predictions + 2D keypoints.
2. Speed on CPU: per-frame latency of uplift + IK + refinement at batch 1, and whole-video
   throughput with batching (metrics excluded; they are reported separately).
3. --compare-devices: the same speed figures on the CPU and on CUDA in one process (the CPU as the
   baseline, with --cpu-threads threads), plus CUDA's throughput at larger batches. Needs a GPU.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of, machine  # noqa: E402

from dataclasses import replace  # noqa: E402

from handviewer.progress import drain  # noqa: E402
from handviewer.pipeline.stages import Pipeline  # noqa: E402
from handviewer.pipeline.settings import RefineSettings  # noqa: E402


def evaluate(folder: Path, settings: RefineSettings, hold_shape: bool = True, keypoints_only: bool = False) -> None:
    """Run `process` on a clip folder with `ground_truth.npz` (e.g. assets/sample: estimator-like
    corrupted 3D predictions + noisy 2D keypoints) and compare before/after with the ground truth.
    hold_shape False: each frame's bones and palm fitted on its own (`process --per-frame-shape`).
    keypoints_only: the clip without its 3D predictions (the uplift from the 2D keypoints)."""
    import csv
    import tempfile

    from handviewer.pipeline.process import process_video

    import shutil

    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as clip:
        if keypoints_only:  # the clip's files but its predictions, which process would find beside the video
            for name in ("video.mp4", "keypoints.json", "camera.json"):
                shutil.copy(folder / name, Path(clip) / name)
        video = (Path(clip) if keypoints_only else folder) / "video.mp4"
        t = time.perf_counter()
        summary = drain(process_video(video, Path(tmp), settings=settings, hold_shape=hold_shape))
        seconds = time.perf_counter() - t
        hands = np.load(Path(tmp) / "hands.npz")
        rows = {tag: list(csv.DictReader(open(Path(tmp) / f"metrics_{tag}.csv"))) for tag in ("before", "after")}
    gt = np.load(folder / "ground_truth.npz")["joints"]
    err = {"before": np.linalg.norm(hands["joints_before"] - gt, axis=-1).mean((1, 2)),
           "after": np.linalg.norm(hands["joints"] - gt, axis=-1).mean((1, 2))}
    from handviewer.intersect.resolved import is_intersecting

    col = lambda tag, k: np.array([float(r[k]) for r in rows[tag]])  # noqa: E731
    # Intersecting by the project's one rule (soft contact is not), as the app and the CSVs say it.
    hit = {tag: np.array([is_intersecting(v, d) for v, d in zip(col(tag, "intersection_volume_cm3"), col(tag, "max_p_mm"))])
           for tag in ("before", "after")}
    inter_b, inter_a = hit["before"], hit["after"]
    print(f"[ground truth] {folder}: {summary['frames']} frames, {seconds:.0f} s with metrics, "
          f"{'one shape per hand held over the video' if hold_shape else 'bones and palm fitted per frame'}"
          f"{', from the 2D keypoints alone (uplift)' if keypoints_only else ''}")
    # How much each hand's bone lengths change over the clip (0 when a shape is held), and how far they
    # are from the truth's (the sample's hands have constant bones).
    bones = hands["params_after"][..., 6:26]  # (T, 2, 20) mm (params_layout: rot, trans, bones, angles)
    truth_bones = _truth_bones(folder)
    print(f"  bone lengths: std over the clip {np.nanmean(np.nanstd(bones, 0)):.2f} mm (mean over bones and hands), "
          f"mean error to the truth {np.nanmean(np.abs(bones - truth_bones[None])):.2f} mm")
    rel = lambda j: j - j[:, :, :1]  # noqa: E731  (each hand's joints relative to its wrist)
    print("  root-relative MPJPE (each hand's shape): before "
          f"{np.nanmean(np.linalg.norm(rel(hands['joints_before']) - rel(gt), axis=-1)):.2f} mm, after "
          f"{np.nanmean(np.linalg.norm(rel(hands['joints']) - rel(gt), axis=-1)):.2f} mm")
    for tag in ("before", "after"):
        print(f"  {tag:6s}: intersecting frames {np.mean(hit[tag]):6.1%} (any overlap "
              f"{np.mean(col(tag, 'intersection_volume_cm3') > 0):6.1%}), mean volume "
              f"{col(tag, 'intersection_volume_cm3').mean():5.2f} cm^3, AVE-P {col(tag, 'ave_p_mm').mean():5.2f} mm, "
              f"MAX-P {col(tag, 'max_p_mm').mean():5.2f} mm, MPJPE {err[tag].mean():6.2f} mm, reprojection "
              f"{np.nanmean(col(tag, 'reprojection_px')):5.1f} px")
    resolved = (inter_b & ~inter_a).sum() / max(inter_b.sum(), 1)
    print(f"  resolved {resolved:.1%} of {inter_b.sum()} intersecting frames; frames whose MPJPE got worse by > 0.5 mm: "
          f"{(err['after'] > err['before'] + 0.5).sum()}")


def _truth_bones(folder: Path) -> np.ndarray:
    """(2, 20) mm: the clip's true bone lengths (right, left), measured on its ground-truth joints."""
    from handviewer.hand.skeleton import BONES

    gt = np.load(folder / "ground_truth.npz")["joints"].astype(np.float64)  # (T, 2, 21, 3)
    ends = np.asarray(BONES)
    return np.nanmedian(np.linalg.norm(gt[:, :, ends[:, 1]] - gt[:, :, ends[:, 0]], axis=-1), 0)


COMPARED = (
    dict(point_set="dense", steps=60),
    dict(point_set="dense", steps=120),
    dict(point_set="dense", steps=60, margin_logit=2.0),
    dict(point_set="mesh", steps=60),
    dict(point_set="mesh", steps=60, both_hands=False),
    dict(point_set="mesh", steps=40),
    dict(point_set="mesh", steps=30),
    dict(point_set="mesh", steps=20),
)


def compare_settings(pipe: Pipeline, folder: Path, every: int = 3) -> None:
    """Refine every `every`-th frame of a clip with each of COMPARED; ground-truth volume and MPJPE."""
    from handviewer.hand import HandModel
    from handviewer.intersect.metrics import count_intersections
    from handviewer.io import load_own
    from handviewer.hand.skeleton import MIRROR_X
    from handviewer.refine.energy import EnergyWeights

    gt = np.load(folder / "ground_truth.npz")
    frames = np.arange(0, len(gt["joints"]), every)
    init = pipe.initial_from_joints(load_own(folder / "predictions.json").joints.joints[frames])
    keypoints = load_own(folder / "keypoints.json").keypoints.xyc[frames]
    plain, flip = HandModel("plain"), MIRROR_X

    def volumes(pair) -> np.ndarray:
        vr = plain.vertices(pair.right).double().numpy()
        vl = plain.vertices(pair.left).double().numpy() * flip
        return np.array([count_intersections(vr[i], plain.faces, vl[i], plain.faces_left, 50)[1] for i in range(len(frames))])

    def mpjpe(pair) -> np.ndarray:
        with torch.no_grad():
            return np.linalg.norm(pair.joints().numpy() - gt["joints"][frames], axis=-1).mean((1, 2))

    v0, e0 = volumes(init.pair), mpjpe(init.pair)
    hit = v0 > 0
    print(f"[settings] every {every}rd frame of {folder}: {hit.sum()}/{len(frames)} intersecting, mean volume "
          f"{v0.mean():.2f} cm^3, MPJPE {e0.mean():.2f} mm before refinement")
    for cfg in COMPARED:
        cfg = dict(cfg)
        weights = EnergyWeights(margin_logit=cfg.pop("margin_logit", 0.0))
        t = time.perf_counter()
        out = drain(pipe.refine(init, keypoints, gt["camera_K"], RefineSettings(**cfg), weights))
        seconds = time.perf_counter() - t
        v, e = volumes(out), mpjpe(out)
        print(f"  {cfg} margin {weights.margin_logit}: resolved {(hit & (v == 0)).sum() / max(hit.sum(), 1):4.0%}, "
              f"mean volume {v.mean():5.2f} cm^3, MPJPE {e.mean():6.2f} mm, {seconds:5.1f} s")


def interhand(pipe: Pipeline, folder: Path, settings: RefineSettings, push_mm: float = 12.0) -> None:
    """The same report on InterHand2.6M-format input (real captures): the two-hand frames' 3D ground
    truth fitted by IK, then corrupted as an estimator would (the left hand moved `push_mm` towards the
    right hand), refined with the ground truth's 2D projections, and compared with the ground truth."""
    from handviewer.hand import HandModel
    from handviewer.intersect.metrics import count_intersections
    from handviewer.io import load_interhand
    from handviewer.hand.skeleton import MIRROR_X

    files = [folder / f"test_interhand2.6m_{k}.json" for k in ("data", "camera", "joint_3d")]
    if not all(f.exists() for f in files):
        print(f"[interhand] skipped: no InterHand2.6M files in {folder}")
        return
    samples = load_interhand(*files)
    joints, xyc = samples.joints.joints, samples.keypoints.xyc
    two = np.isfinite(joints).all(-1).all(-1).all(-1)
    if not two.any():
        print("[interhand] skipped: no frame with both hands")
        return
    gt, kp = joints[two], xyc[two]
    K = np.stack([np.asarray(c.K, np.float32) for c, t in zip(samples.cameras, two) if t])
    plain, flip = HandModel("plain"), MIRROR_X
    towards = gt[:, 0].mean(1) - gt[:, 1].mean(1)
    pushed = gt.copy()
    pushed[:, 1] += push_mm * (towards / np.linalg.norm(towards, axis=-1, keepdims=True))[:, None]

    def report(tag: str, pair) -> None:
        vr = plain.vertices(pair.right).double().numpy()
        vl = plain.vertices(pair.left).double().numpy() * flip
        vol = [count_intersections(vr[i], plain.faces, vl[i], plain.faces_left, 50)[1] for i in range(len(gt))]
        with torch.no_grad():
            err = np.linalg.norm(pair.joints().numpy() - gt, axis=-1).mean((1, 2))
        print(f"  {tag:34s}: intersection volume {', '.join(f'{v:5.2f}' for v in vol)} cm^3; MPJPE "
              f"{', '.join(f'{e:5.2f}' for e in err)} mm")

    print(f"[interhand] {folder}: {len(gt)} two-hand frames ({', '.join(n for n, t in zip(samples.file_names, two) if t)})")
    fitted = pipe.initial_from_joints(gt)
    report("ground truth fitted by IK", fitted.pair)
    report("refined from the fitted truth", drain(pipe.refine(fitted, kp, K, settings)))
    corrupt = pipe.initial_from_joints(pushed)
    report(f"left hand pushed {push_mm:.0f} mm in", corrupt.pair)
    report("... refined", drain(pipe.refine(corrupt, kp, K, settings)))


@contextlib.contextmanager
def every_frame_pushed():
    """The refinement before quiet frames were skipped: every frame counts as touching from step 0."""
    module = sys.modules["handviewer.refine.refine"]  # the package re-exports a function of that name
    saved = module.QUIET_LOSS
    module.QUIET_LOSS = float("-inf")
    try:
        yield
    finally:
        module.QUIET_LOSS = saved


LATENCY_FRAMES = 30
LATENCY_REPEATS = 3


def touching_share(pipe: Pipeline, joints: np.ndarray) -> float:
    """Share of pairs (N, 2, 21, 3) mm whose IK-fitted meshes intersect by the one rule."""
    from handviewer.refine.refine import exact_intersecting

    pair = pipe.initial_from_joints(joints).pair
    return float(exact_intersecting(pair, torch.ones(len(joints), dtype=torch.bool)).float().mean())


def speed(pipe: Pipeline, settings: RefineSettings) -> None:
    from handviewer.uplift.synthetic import make_pool, view

    pool = make_pool(64, seed=99)
    kp, K, _ = view(pool, torch.arange(64), torch.Generator().manual_seed(0))
    kp, K = kp.numpy(), K.numpy()

    def run(idx):
        init = pipe.initial_from_keypoints(kp[idx], K[idx])
        drain(pipe.refine(init, kp[idx], K[idx], settings))

    run([0])  # warm-up
    # The app's case: one frame at a time, as the user opens it. The tail is the goal (issue 18: p90
    # < 100 ms, max < 200 ms), and it is set by the frames whose hands touch.
    close = (pool.joints + torch.tensor([0.0, 0.0, 500.0])).numpy()
    for name, one in (("uplift + refinement from 2D keypoints", lambda i: run([i])),
                      ("IK + refinement from 3D joints", lambda i: drain(pipe.refine(
                          pipe.initial_from_joints(close[[i]]), None, None, settings)))):
        # Each frame LATENCY_REPEATS times: the first run as the user meets it, and the best run, which
        # leaves out what other jobs on a shared machine add (single runs vary by 30-40 % here).
        runs = np.array([[best_of(lambda i=i: one(i), repeat=1) for _ in range(LATENCY_REPEATS)]
                         for i in range(LATENCY_FRAMES)]) * 1000
        share = touching_share(pipe, close[:LATENCY_FRAMES])
        for label, times in (("one run", runs[:, 0]), (f"best of {LATENCY_REPEATS}", runs.min(1))):
            print(f"[latency] {name}, batch 1, {LATENCY_FRAMES} close pairs ({share:.0%} intersecting), {label}: "
                  f"median {np.median(times):.0f} ms, mean {times.mean():.0f}, p90 {np.percentile(times, 90):.0f}, "
                  f"max {times.max():.0f}")
    latency = best_of(lambda: [run([i]) for i in range(10)], repeat=1) / 10
    throughput = 64 / best_of(lambda: run(list(range(64))), repeat=1)
    with every_frame_pushed():
        base_latency = best_of(lambda: [run([i]) for i in range(10)], repeat=1) / 10
        base_throughput = 64 / best_of(lambda: run(list(range(64))), repeat=1)
    print(f"[speed] uplift + refinement ({settings.steps} steps, {settings.point_set}-{'both' if settings.both_hands else 'single'}): "
          f"{latency * 1000:.0f} ms per frame at batch 1; {throughput:.1f} frames/s batched (64 frames)")
    print(f"        baseline, every frame through the network at every step: {base_latency * 1000:.0f} ms, "
          f"{base_throughput:.1f} frames/s (quiet frames skipped: {base_latency / latency:.1f}x, {throughput / base_throughput:.1f}x)")
    # The same 64 pairs from their 3D joints (IK, no 2D), as they are (hands close) and with the left
    # hand moved 250 mm aside, as in most frames of real videos: the bounding-box filter then skips
    # the network and only the data terms are optimised.
    apart = close.copy()
    apart[:, 1, :, 0] += 250.0  # one of the 64 pairs still touches (its left hand moves onto the right)
    far = close.copy()
    far[:, 1, :, 0] += 400.0  # none touches: refinement stops once the (zero) data terms have settled
    for name, joints in (("hands close", close), ("hands apart", apart), ("hands far apart", far)):
        init = pipe.initial_from_joints(joints)
        fps = 64 / best_of(lambda: drain(pipe.refine(init, None, None, settings)), repeat=1)
        with every_frame_pushed():
            base = 64 / best_of(lambda: drain(pipe.refine(init, None, None, settings)), repeat=1)
        # One frame at a time, IK included, as the app computes a frame the user opens.
        one = best_of(lambda: [drain(pipe.refine(pipe.initial_from_joints(joints[[i]]), None, None, settings))
                               for i in range(10)], repeat=1) / 10
        print(f"[speed] IK input, 3D only, {name}: {fps:.1f} frames/s batched (64 frames); "
              f"baseline {base:.1f} frames/s ({fps / base:.1f}x); IK + refinement at batch 1: {one * 1000:.0f} ms")
    t = time.perf_counter()
    init = pipe.initial_from_keypoints(kp[:8], K[:8])
    for i in range(8):
        pipe.metrics(init.pair, init.present, i, kp[i], K[i], None)
    print(f"[speed] per-frame metrics (ground-truth count, penetration, occupancy count): {(time.perf_counter() - t) / 8 * 1000:.0f} ms")


def compare_devices(settings: RefineSettings, cpu_threads: int | None,
                    batches=(1, 4, 8, 16, 32, 64), gpu_batches=(256, 1024)) -> None:
    """Speed of the frame pipeline (uplift + refinement, from 2D keypoints) on the CPU and on CUDA,
    same inputs, same process: frames/s by batch size (where CUDA starts to pay), batch-1 latency
    per frame, IK + refinement of one frame (3D input), per-frame metrics."""
    from handviewer.uplift.synthetic import make_pool, view

    if not torch.cuda.is_available():
        raise SystemExit("--compare-devices needs a CUDA device")
    n = max(*gpu_batches, 64)
    pool = make_pool(n, seed=99)
    kp, K, _ = view(pool, torch.arange(n), torch.Generator().manual_seed(0))
    kp, K = kp.numpy(), K.numpy()
    close = (pool.joints + torch.tensor([0.0, 0.0, 500.0])).numpy()
    figures = {}
    for name in ("cpu", "cuda"):
        if name == "cpu" and cpu_threads:
            torch.set_num_threads(cpu_threads)
        pipe, run_settings = Pipeline(name), replace(settings, device=name)

        def run(idx):
            init = pipe.initial_from_keypoints(kp[idx], K[idx])
            drain(pipe.refine(init, kp[idx], K[idx], run_settings))

        run([0])
        run(list(range(64)))  # warm-up: CUDA context, kernels, allocator
        per_frame = [best_of(lambda i=i: run([i]), repeat=1) * 1000 for i in range(10)]
        ik = [best_of(lambda i=i: drain(pipe.refine(pipe.initial_from_joints(close[[i]]), None, None, run_settings)),
                      repeat=1) * 1000 for i in range(10)]
        # Batches of b frames over the same 64 (or b) frames: frames/s.
        sizes = batches + (gpu_batches if name == "cuda" else ())
        fps = {}
        for b in sizes:
            frames = max(b, 64)
            fps[b] = frames / best_of(lambda b=b, frames=frames: [run(list(range(s, s + b))) for s in range(0, frames, b)],
                                      repeat=1)
        init = pipe.initial_from_keypoints(kp[:8], K[:8])
        start = time.perf_counter()
        for i in range(8):
            pipe.metrics(init.pair, init.present, i, kp[i], K[i], None)
        metrics_ms = (time.perf_counter() - start) / 8 * 1000
        figures[name] = {"latency": float(np.mean(per_frame)), "ik": float(np.mean(ik)), "fps": fps, "metrics": metrics_ms}
        where = f"{torch.get_num_threads()} threads" if name == "cpu" else torch.cuda.get_device_name(0)
        print(f"[devices] {name} ({where}): uplift + refinement at batch 1 {figures[name]['latency']:.0f} ms "
              f"(per frame {', '.join(f'{t:.0f}' for t in per_frame)}); IK + refinement at batch 1 "
              f"{figures[name]['ik']:.0f} ms; metrics {metrics_ms:.0f} ms per frame")
    cpu, gpu = figures["cpu"], figures["cuda"]
    print("[devices] frames/s by batch size (uplift + refinement, 64 frames or one batch):")
    print("          batch " + "".join(f"{b:>8d}" for b in gpu["fps"]))
    print("          cpu   " + "".join(f"{cpu['fps'][b]:8.1f}" if b in cpu["fps"] else f"{'':>8s}" for b in gpu["fps"]))
    print("          cuda  " + "".join(f"{gpu['fps'][b]:8.1f}" for b in gpu["fps"]))
    print("          ratio " + "".join(f"{gpu['fps'][b] / cpu['fps'][b]:8.2f}" if b in cpu["fps"] else f"{'':>8s}"
                                       for b in gpu["fps"]))
    print(f"[devices] cuda vs cpu: batch 1 latency {cpu['latency'] / gpu['latency']:.2f}x, IK + refinement "
          f"{cpu['ik'] / gpu['ik']:.2f}x, metrics {cpu['metrics'] / gpu['metrics']:.2f}x (> 1: CUDA faster)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=Path(__file__).resolve().parents[1] / "assets" / "sample")
    parser.add_argument("--steps", type=int, default=RefineSettings.steps)
    parser.add_argument("--weight", type=float, default=RefineSettings.weight)
    parser.add_argument("--safe", action="store_true")
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--compare-settings", action="store_true", help="also compare point sets and step counts")
    parser.add_argument("--interhand", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "interhand26m_mmpose_samples",
                        help="folder with InterHand2.6M annotation files (skipped when absent)")
    parser.add_argument("--only-interhand", action="store_true")
    parser.add_argument("--only-speed", action="store_true")
    parser.add_argument("--only-eval", action="store_true", help="only the ground-truth evaluation of --clip")
    parser.add_argument("--keypoints-only", action="store_true", help="the ground-truth evaluation without the clip's "
                        "3D predictions (the uplift from its 2D keypoints)")
    parser.add_argument("--per-frame-shape", action="store_true", help="the ground-truth evaluation with each frame's "
                        "bones and palm fitted on its own (`process --per-frame-shape`), to compare with the held shape")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu", help="for the figures other "
                        "than --compare-devices (default: %(default)s, the CPU goals' machine)")
    parser.add_argument("--compare-devices", action="store_true", help="only the CPU-vs-CUDA speed table")
    parser.add_argument("--cpu-threads", type=int, help="torch threads of --compare-devices' CPU baseline")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    settings = RefineSettings(steps=args.steps, weight=args.weight, safe_mode=args.safe, device=args.device)
    if args.compare_devices:
        compare_devices(settings, args.cpu_threads)
        return
    if args.only_eval:
        evaluate(args.clip, settings, hold_shape=not args.per_frame_shape, keypoints_only=args.keypoints_only)
        return
    pipe = Pipeline(args.device)
    if args.only_speed:
        speed(pipe, settings)
        return
    if args.only_interhand:
        interhand(pipe, args.interhand, settings)
        return
    if not args.skip_eval:
        evaluate(args.clip, settings, hold_shape=not args.per_frame_shape, keypoints_only=args.keypoints_only)
    interhand(pipe, args.interhand, settings)
    if args.compare_settings:
        compare_settings(pipe, args.clip)
    speed(pipe, settings)


if __name__ == "__main__":
    main()
