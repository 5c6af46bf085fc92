"""Refinement speed of this checkout against another one (e.g. main before a change), measured in two
worker processes that take turns frame by frame, so that load on a shared machine hits both alike
(single runs of the same code vary by 30-40 % over minutes on a shared CPU, more than most changes).

Per frame, batch 1 (the app's case), 30 close pairs: uplift + refinement from 2D keypoints and IK +
refinement from 3D joints, each frame run --repeats times; median / mean / p90 / max of the first run
and of the best run per frame. Then refinement of 64 close pairs from 3D joints in one batch.

    git worktree add /tmp/before <commit>
    python benchmarks/bench_ab.py /tmp/before [--threads 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

FRAMES = 30


def worker(threads: int) -> None:
    """Serve requests from stdin: "2d I", "3d I" (frame I at batch 1) or "batch" -> seconds taken."""
    import torch

    torch.set_num_threads(threads)
    from handviewer.pipeline.settings import RefineSettings
    from handviewer.pipeline.stages import Pipeline
    from handviewer.progress import drain
    from handviewer.uplift.synthetic import make_pool, view

    pipe, settings = Pipeline("cpu"), RefineSettings()
    pool = make_pool(64, seed=99)
    kp, K, _ = view(pool, torch.arange(64), torch.Generator().manual_seed(0))
    kp, K = kp.numpy(), K.numpy()
    close = (pool.joints + torch.tensor([0.0, 0.0, 500.0])).numpy()
    batch = pipe.initial_from_joints(close)
    jobs = {
        "2d": lambda i: drain(pipe.refine(pipe.initial_from_keypoints(kp[[i]], K[[i]]), kp[[i]], K[[i]], settings)),
        "3d": lambda i: drain(pipe.refine(pipe.initial_from_joints(close[[i]]), None, None, settings)),
        "batch": lambda i: drain(pipe.refine(batch, None, None, settings)),
    }
    for job in jobs.values():  # warm up
        job(0)
    print(f"ready {__import__('handviewer').__file__}", flush=True)
    for line in sys.stdin:
        kind, *index = line.split()
        start = time.perf_counter()
        jobs[kind](int(index[0]) if index else 0)
        print(f"{time.perf_counter() - start:.6f}", flush=True)


def _stats(ms: np.ndarray) -> str:
    return f"{np.median(ms):.0f} / {ms.mean():.0f} / {np.percentile(ms, 90):.0f} / {ms.max():.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("other", type=Path, help="the other checkout (its folder holds the handviewer package)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.threads)
    here = Path(__file__).resolve().parents[1]
    procs = {}
    for name, root in (("other", args.other.resolve()), ("this", here)):
        env = dict(os.environ, PYTHONPATH=str(root), OMP_NUM_THREADS=str(args.threads))
        procs[name] = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(root), "--worker",
                                        "--threads", str(args.threads)], env=env, cwd=str(root.parent),
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for name, proc in procs.items():
        print(f"{name}: {proc.stdout.readline().split(maxsplit=1)[1].strip()}")

    def ask(name: str, request: str) -> float:
        procs[name].stdin.write(request + "\n")
        procs[name].stdin.flush()
        return float(procs[name].stdout.readline()) * 1000

    print(f"{args.threads} thread(s); median / mean / p90 / max ms over {FRAMES} close pairs at batch 1")
    for kind, label in (("2d", "uplift + refinement from 2D keypoints"), ("3d", "IK + refinement from 3D joints")):
        ms = {name: np.zeros((FRAMES, args.repeats)) for name in procs}
        for r in range(args.repeats):
            for i in range(FRAMES):
                for name in (("other", "this") if (i + r) % 2 == 0 else ("this", "other")):  # take turns
                    ms[name][i, r] = ask(name, f"{kind} {i}")
        for name in procs:
            print(f"[ab] {label}, {name}: first run {_stats(ms[name][:, 0])}; best of {args.repeats} "
                  f"{_stats(ms[name].min(1))}")
        best = {name: ms[name].min(1) for name in procs}
        print(f"[ab] {label}, this / other: mean {best['this'].mean() / best['other'].mean():.2f}, "
              f"p90 {np.percentile(best['this'], 90) / np.percentile(best['other'], 90):.2f}")
    fps = {name: [] for name in procs}
    for r in range(args.repeats):
        for name in (("other", "this") if r % 2 == 0 else ("this", "other")):
            fps[name].append(64000 / ask(name, "batch"))
    for name in procs:
        print(f"[ab] 64 close pairs from 3D joints in one batch, {name}: "
              + ", ".join(f"{f:.0f}" for f in fps[name]) + " frames/s")
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()


if __name__ == "__main__":
    main()
