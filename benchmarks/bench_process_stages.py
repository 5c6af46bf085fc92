"""Where `handviewer process`'s time goes, stage by stage, on each device (the sample clip, from its
3D predictions and 2D keypoints, no metrics): model loading, the initial estimate (IK of the
predictions), refinement; each timed twice (the first run includes CUDA's start-up and first kernels).

    python benchmarks/bench_process_stages.py [--devices cpu cuda] [--batch 100] [--cpu-threads 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from handviewer.pipeline.video import VideoPipeline  # noqa: E402
from handviewer.io import open_frames  # noqa: E402
from handviewer.pipeline.run import initial_estimate  # noqa: E402
from handviewer.pipeline.stages import Pipeline  # noqa: E402
from handviewer.pipeline.settings import RefineSettings  # noqa: E402
from handviewer.progress import drain  # noqa: E402


def _timed(fn):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=Path(__file__).resolve().parents[1] / "assets" / "sample" / "video.mp4")
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--cpu-threads", type=int)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for name in args.devices:
        if name == "cuda" and not torch.cuda.is_available():
            print("[stages] cuda: skipped, torch sees no CUDA device")
            continue
        if name == "cpu" and args.cpu_threads:
            torch.set_num_threads(args.cpu_threads)
        pipe, settings = Pipeline(name), RefineSettings(device=name)
        with open_frames(args.clip) as frames:
            computer = VideoPipeline(frames, args.clip, pipeline=pipe)
        _, load_ms = _timed(lambda: drain(pipe.warm_up()))
        frames = list(range(min(args.batch, computer.frame_count)))
        for run in (1, 2):
            batch = computer.batch(frames)
            initial, initial_ms = _timed(lambda: initial_estimate(pipe, batch))
            _, refine_ms = _timed(lambda: drain(pipe.refine(initial, batch.keypoints, batch.K, settings)))
            print(f"[stages] {name} run {run}: models {load_ms:.0f} ms (first run only); initial estimate (IK) of "
                  f"{len(frames)} frames {initial_ms:.0f} ms; refinement {refine_ms:.0f} ms; "
                  f"{len(frames) / ((initial_ms + refine_ms) / 1000):.1f} frames/s")


if __name__ == "__main__":
    main()
