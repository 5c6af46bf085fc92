"""Refinement speed on a busy machine: the same work with torch on 1 and on all threads, on free
cores and with background jobs spinning on every core, and what `handviewer.threads.choose_threads`
picks in each case. Goal (issue "Speed"): busy / idle <= 2 for the chosen thread count.

    python benchmarks/bench_busy.py [--frames 16] [--spinners N (default: one per core)]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from handviewer.io import open_frames  # noqa: E402
from handviewer.pipeline.run import initial_estimate  # noqa: E402
from handviewer.pipeline.settings import RefineSettings  # noqa: E402
from handviewer.pipeline.video import VideoPipeline  # noqa: E402
from handviewer.progress import drain  # noqa: E402
from handviewer.threads import choose_threads  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "sample" / "video.mp4"


def _spin(stop) -> None:
    x = 0
    while not stop.is_set():
        x = (x * 7 + 1) % 1000003


def _work(comp: VideoPipeline, frames: list[int]) -> float:
    """Seconds to refine the sample's touching frames (initial estimate cached beforehand)."""
    batch = comp.batch(frames)
    initial = initial_estimate(comp.pipeline, batch)
    start = time.perf_counter()
    drain(comp.pipeline.refine(initial, batch.keypoints, batch.K, RefineSettings(device="cpu")))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--spinners", type=int, default=os.cpu_count())
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with open_frames(SAMPLE) as f:
        comp = VideoPipeline(f, SAMPLE)
    drain(comp.warm_up())
    frames = list(range(80, 80 + args.frames))  # stacked hands, touching
    cores = os.cpu_count() or 1
    times = {}
    for busy in (False, True):
        stop, spinners = mp.Event(), []
        if busy:
            spinners = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(args.spinners)]
            [p.start() for p in spinners]
            time.sleep(3.0)  # let the load average notice (it lags; the policy reads it)
        for threads in sorted({1, cores}):
            torch.set_num_threads(threads)
            _work(comp, frames[:2])  # warm
            times[busy, threads] = min(_work(comp, frames) for _ in range(2))
        chosen = choose_threads(cores, load=float(args.spinners) if busy else 0.0)
        stop.set()
        [p.join() for p in spinners]
        state = f"busy ({args.spinners} spinners)" if busy else "idle"
        print(f"[busy] {state}: " + ", ".join(f"{t} thread(s) {times[busy, t] * 1000:.0f} ms" for t in sorted({1, cores}))
              + f"; chosen {chosen}")
    for t in sorted({1, cores}):
        print(f"[busy] {t} thread(s): busy / idle = {times[True, t] / times[False, t]:.2f}")
    chosen_idle, chosen_busy = choose_threads(cores, 0.0), choose_threads(cores, float(args.spinners))
    print(f"[busy] chosen threads ({chosen_idle} idle, {chosen_busy} busy): busy / idle = "
          f"{times[True, chosen_busy] / times[False, chosen_idle]:.2f} (goal <= 2)")


if __name__ == "__main__":
    main()
