"""`handviewer detect`: 2D keypoints of both hands for a video or image folder, in our format.

Building the parser loads neither mediapipe nor torch; the detection is imported when it runs.
"""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    """Add `detect` to an argparse sub-parsers object."""
    p = sub.add_parser("detect", help="detect 2D hand keypoints in a video or image folder (MediaPipe Hands, offline)",
                       description="Both hands in every frame: MediaPipe Hands (built in, offline), a second look "
                                   "for a missing hand, right/left from positions over time. Writes our keypoints "
                                   "format, which `handviewer VIDEO` and `handviewer process` find beside the video.")
    p.add_argument("video", type=Path, help="video file or image folder")
    p.add_argument("--out", type=Path, help="keypoints file, .json or .npz (default: VIDEO_STEM.keypoints.json beside the video)")
    p.add_argument("--model", type=Path, help="a MediaPipe Hand Landmarker .task file to use instead of the built-in Hands")
    p.add_argument("--min-confidence", type=float, default=0.5, help="detection and tracking thresholds (default: %(default)s)")
    p.add_argument("--no-second-look", action="store_true",
                   help="do not look again for a missing hand (found hand masked, region around its last place)")
    p.add_argument("--label-sides", action="store_true",
                   help="take right/left from the detector's per-frame labels instead of positions over time")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from handviewer.detect.cache import beside_path, detection_header
    from handviewer.detect.mediapipe_backend import make_detector
    from handviewer.detect.video import DetectOptions, iter_detect
    from handviewer.io.own import save_own
    from handviewer.progress import TextProgress, drain

    if not args.video.exists():
        raise FileNotFoundError(f"no such video or folder: {args.video}")
    out = args.out or beside_path(args.video)
    if out.suffix.lower() not in (".json", ".npz"):
        raise ValueError(f"--out must end in .json or .npz, got {out}")
    if out.exists() and not args.overwrite:
        raise FileExistsError(f"{out} exists: pass --overwrite to replace it")
    options = DetectOptions(masked=not args.no_second_look, region=not args.no_second_look, sides=not args.label_sides,
                            min_confidence=args.min_confidence)
    detector = make_detector(args.model, args.min_confidence)
    try:
        detections = drain(iter_detect(args.video, detector, options), TextProgress("detect"))
    finally:
        detector.close()
    save_own(out, detections.to_keypoints2d(), extra_header=detection_header(
        detector.name, second_look=not args.no_second_look, sides_over_time=not args.label_sides,
        min_confidence=args.min_confidence))
    print(json.dumps({"keypoints": str(out.resolve()), "detector": detector.name, **detections.summary()}, indent=2))
    return 0
