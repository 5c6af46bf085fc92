"""What refining a frame costs in the app once the frame is shown (its initial result computed):
with `VideoPipeline`'s per-frame cache (the initial estimate and its metrics computed once) against
the same refinement with that cache dropped first (the earlier behaviour, which recomputed them).
Same frames, same process, alternating so that load on the machine hits both alike.

    python benchmarks/bench_app_refine.py [--frames 12] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from handviewer.io import open_frames  # noqa: E402
from handviewer.pipeline.settings import RefineSettings  # noqa: E402
from handviewer.pipeline.video import VideoPipeline  # noqa: E402
from handviewer.progress import drain  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "sample" / "video.mp4"


def refine_ms(comp: VideoPipeline, index: int, settings: RefineSettings, cached: bool) -> float:
    comp.compute_initial(index)  # the frame is on screen
    if not cached:
        comp._cache.forget(index)  # noqa: SLF001 - the baseline: recompute the initial result
    start = time.perf_counter()
    drain(comp.refine(index, settings))
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}")
    with open_frames(SAMPLE) as frames:
        comp = VideoPipeline(frames, SAMPLE)
    drain(comp.warm_up())
    settings = RefineSettings(device="cpu")
    times = {True: [], False: []}
    for index in range(0, comp.frame_count, max(1, comp.frame_count // args.frames))[: args.frames]:
        for cached in (False, True):
            times[cached].append(refine_ms(comp, index, settings, cached))
    for cached, label in ((False, "recomputing the initial result (before)"), (True, "cached initial result (now)")):
        t = times[cached]
        print(f"[app refine] {label}: median {statistics.median(t):.0f} ms, mean {statistics.mean(t):.0f} ms "
              f"over {len(t)} frames of the sample (3D predictions)")
    saved = [a - b for a, b in zip(times[False], times[True])]
    print(f"[app refine] saved per refine: median {statistics.median(saved):.0f} ms; "
          f"ratio of means {statistics.mean(times[True]) / statistics.mean(times[False]):.2f}")


if __name__ == "__main__":
    main()
