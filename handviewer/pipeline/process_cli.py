"""`handviewer process` on the command line: its sub-parser and the run of it.

Building the parser loads neither torch nor the pipeline; `process_video` is imported when the
command runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from handviewer.devices import AUTO_CUDA_MIN_BATCH
from handviewer.intersect.names import POINT_SETS
from handviewer.intersect.resolved import CONTACT_DEPTH_MM
from handviewer.pipeline.settings import DEVICE_NAMES, RefineSettings
from handviewer.progress import TextProgress, drain

def register(sub) -> None:
    """Add `process` to an argparse sub-parsers object."""
    p = sub.add_parser("process", help="run every frame of a video through the pipeline and export the results",
                       description="Initial 3D estimate (3D predictions fitted by IK, else uplift of the 2D "
                                   "keypoints), intersection-loss refinement and exports for every frame. Resumable: "
                                   "run the same command again after an interruption.")
    p.add_argument("video", type=Path, help="video file or image folder")
    p.add_argument("--keypoints", type=Path, help="2D keypoints (our JSON/NPZ, an OpenPose JSON file or folder); "
                                                  "default: found beside the video")
    p.add_argument("--predictions", type=Path, help="3D predictions of another estimator (42 joints, mm, camera "
                                                    "frame); default: found beside the video")
    p.add_argument("--camera", type=Path, help="camera intrinsics JSON; default: beside the video, else from the image size")
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--batch", type=int, default=32, help="frames refined together (default: %(default)s); with a GPU, "
                   f"{AUTO_CUDA_MIN_BATCH} or more lets --device auto use it (256 or more: see benchmarks/README.md)")
    p.add_argument("--steps", type=int, default=RefineSettings.steps, help="refinement steps per frame (default: %(default)s)")
    p.add_argument("--point-set", choices=list(POINT_SETS), default=RefineSettings.point_set,
                   help="points tested against the other hand's occupancy (default: %(default)s)")
    p.add_argument("--single", action="store_true", help="test only the left hand's points (alpha = 0)")
    p.add_argument("--weight", type=float, default=RefineSettings.weight, help="weight of the intersection loss (default: %(default)s)")
    p.add_argument("--safe", action="store_true", help="IHMR-style safe refinement")
    p.add_argument("--meshes", action="store_true", help="also write per-frame PLY meshes")
    p.add_argument("--no-metrics", action="store_true",
                   help="skip the per-frame intersection metrics (intersection volume, penetration, occupancy "
                        "count); reprojection and displacement are still written")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier export in --out")
    p.add_argument("--per-frame-shape", action="store_true",
                   help="fit each frame's bone lengths and palm layout on its own (default: one shape per hand, "
                        "estimated from the whole video and held in every frame; metadata.json records it)")
    p.add_argument("--contact-mm", type=float, default=CONTACT_DEPTH_MM,
                   help="soft contact: how deep (mm) one hand may press into the other before refinement pushes "
                        "them apart (default: %(default)s, the depth the metrics tolerate when they call a pair "
                        "resolved)")
    p.add_argument("--device", choices=list(DEVICE_NAMES), default="auto",
                   help=f"where uplift, IK and refinement run: auto = CUDA where torch sees a device and --batch is at "
                        f"least {AUTO_CUDA_MIN_BATCH} (smaller batches are faster on the CPU), else the CPU "
                        "(default: %(default)s)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from handviewer.pipeline.process import process_video
    from handviewer.threads import apply_thread_choice

    apply_thread_choice()  # one thread when other jobs hold the cores (torch's default then collapses)

    settings = RefineSettings(point_set=args.point_set, both_hands=not args.single, weight=args.weight,
                              steps=args.steps, device=args.device, safe_mode=args.safe, contact_mm=args.contact_mm)
    gen = process_video(args.video, args.out, args.keypoints, args.predictions, args.camera, settings,
                        args.batch, args.meshes, not args.no_metrics, args.overwrite,
                        hold_shape=not args.per_frame_shape)
    summary = drain(gen, TextProgress("process"))
    print(json.dumps(summary, indent=2))
    return 0
