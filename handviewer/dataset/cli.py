"""`handviewer clean-dataset` on the command line. Building the parser loads neither torch nor Ray."""

from __future__ import annotations

import json
from pathlib import Path

from handviewer.intersect.names import POINT_SETS
from handviewer.pipeline.settings import DEVICE_NAMES, RefineSettings
from handviewer.progress import TextProgress, drain


def register(sub) -> None:
    """Add `clean-dataset` to an argparse sub-parsers object."""
    p = sub.add_parser(
        "clean-dataset", help="remove hand-to-hand intersections from InterHand2.6M-format annotation files",
        description="Fit and refine every frame with both hands of InterHand2.6M annotation files "
                    "(*_joint_3d.json with *_camera.json and *_data.json beside it) and write corrected "
                    "joint_3d files in the same layout and world frame (frames without an intersection and "
                    "single-hand frames unchanged), a per-frame CSV (frames.csv), a summary (summary.json), "
                    "a review list (review.json), plots (PNG) and report.html. Resumable: run the same "
                    "command again after an interruption; finished shards are not recomputed.")
    p.add_argument("annotations", type=Path, nargs="+", help="*_joint_3d.json files or folders holding them (one job)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: this process, no cluster; ray: Ray Data on this machine, or on --ray-address "
                        "(default: %(default)s)")
    p.add_argument("--ray-address", help="a Ray cluster's address (e.g. ray://head:10001 or auto); implies --engine "
                                         "ray; the output's folder must be on storage every node sees")
    p.add_argument("--workers", type=int, default=2, help="Ray workers, each loading the networks once "
                                                          "(default: %(default)s)")
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help="GPUs per Ray worker (default: %(default)s)")
    p.add_argument("--metrics-workers", type=int, default=0,
                   help="Ray only: measure the frames in a separate stage of this many CPU workers, so that the "
                        "--workers (GPUs) only fit and refine; 0: each worker measures its own frames; the "
                        "results are the same (default: %(default)s)")
    p.add_argument("--chunk", type=int, default=32, help="frames refined together; the results depend on it, not "
                                                         "on workers or shards (default: %(default)s)")
    p.add_argument("--shard-size", type=int, default=1024, help="frames per resumable shard, a multiple of --chunk "
                                                                "(default: %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker (default: %(default)s)")
    p.add_argument("--review-moved-mm", type=float, default=10.0,
                   help="frames whose joints moved more than this go to the review list (default: %(default)s)")
    p.add_argument("--steps", type=int, default=RefineSettings.steps, help="refinement steps (default: %(default)s)")
    p.add_argument("--point-set", choices=list(POINT_SETS), default=RefineSettings.point_set,
                   help="points tested against the other hand's occupancy (default: %(default)s)")
    p.add_argument("--weight", type=float, default=RefineSettings.weight,
                   help="weight of the intersection loss (default: %(default)s)")
    p.add_argument("--device", choices=list(DEVICE_NAMES), default="auto",
                   help="auto: CUDA where a worker sees one and --chunk is large enough (default: %(default)s)")
    p.add_argument("--no-html", action="store_true", help="skip report.html")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier clean-dataset output in --out")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from handviewer.dataset.job import clean_dataset

    settings = RefineSettings(point_set=args.point_set, weight=args.weight, steps=args.steps, device=args.device)
    engine = "ray" if args.ray_address else args.engine
    gen = clean_dataset(args.annotations, args.out, settings, chunk=args.chunk, shard_size=args.shard_size,
                        engine=engine, workers=args.workers, ray_address=args.ray_address,
                        gpus_per_worker=args.gpus_per_worker, metrics_workers=args.metrics_workers,
                        threads=args.threads,
                        review_moved_mm=args.review_moved_mm, html=not args.no_html, overwrite=args.overwrite)
    summary = drain(gen, TextProgress("clean-dataset"))
    print(json.dumps({"out": str(Path(args.out).resolve()), **summary["totals"], "run": summary["run"]}, indent=2))
    return 0
