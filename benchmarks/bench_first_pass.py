"""What the app's first pass over a whole video costs per frame (`VideoPipeline.first_pass`, in the
app's chunks of 16 frames: the initial estimate batched, then the exact intersection metrics of each
frame without display meshes), against computing every frame as the app shows one
(`compute_initial`, frame by frame, display meshes included): the cost of filling the strip chart
and N / P / worst frame before the first pass existed. Also: how many frames intersect
(`intersect.resolved.is_intersecting`) and how many the review queue holds.

    python benchmarks/bench_first_pass.py [--threads 1] [VIDEO ...]

Default videos: the bundled sample (3D predictions), and the real clip ../shared/data/slp_pose_extra/
SOUP.mp4 (mmpose whole-body keypoints beside it: uplift from 2D) when present.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from handviewer.gui.controller import FIRST_PASS_CHUNK  # noqa: E402  (a plain constant; loads Qt, not a window)
from handviewer.intersect.resolved import is_intersecting  # noqa: E402
from handviewer.io import open_frames  # noqa: E402
from handviewer.pipeline.video import VideoPipeline  # noqa: E402
from handviewer.progress import drain  # noqa: E402
from handviewer.session import Session, review_state  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [ROOT / "assets" / "sample" / "video.mp4", ROOT.parent / "shared" / "data" / "slp_pose_extra" / "SOUP.mp4"]


def pipeline(video: Path) -> VideoPipeline:
    with open_frames(video) as frames:
        comp = VideoPipeline(frames, video)
    drain(comp.warm_up())
    return comp


def bench(video: Path) -> None:
    comp = pipeline(video)
    n = comp.frame_count
    start = time.perf_counter()
    overview = {}
    for k in range(0, n, FIRST_PASS_CHUNK):
        overview.update(drain(comp.first_pass(list(range(k, min(k + FIRST_PASS_CHUNK, n))))))
    first = time.perf_counter() - start
    fresh = pipeline(video)  # nothing cached: every frame as the app computes a shown frame
    start = time.perf_counter()
    for i in range(n):
        fresh.compute_initial(i)
    alone = time.perf_counter() - start
    session = Session(str(video), n)
    session.set_overview(overview)
    state = review_state(session)
    hits = sum(is_intersecting(o.metrics.intersection_volume_cm3, o.metrics.max_p_mm) for o in overview.values())
    print(f"[first pass] {video.name}: {n} frames, first pass {first:.2f} s = {first / n * 1000:.0f} ms/frame; "
          f"each frame as shown {alone:.2f} s = {alone / n * 1000:.0f} ms/frame (x{alone / first:.2f}); "
          f"{hits} intersecting, review queue {len(state.queue)} "
          f"(low confidence {len(state.categories['low_confidence'])})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}; threads {args.threads}")
    for video in args.videos or [v for v in DEFAULT if v.exists()]:
        bench(video)


if __name__ == "__main__":
    main()
