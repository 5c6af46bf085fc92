"""`handviewer …` command line. Sub-commands import their heavy dependencies lazily: building the
parser (`handviewer --help`, `handviewer COMMAND --help`) loads neither torch nor Qt."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from handviewer import __version__


def _cmd_mesh(args: argparse.Namespace) -> int:
    """Write a posed hand mesh (default or random pose) to PLY/OBJ."""
    from handviewer.hand import HandModel

    model = HandModel(args.detail)
    params = model.random_params(1, seed=args.seed, rotate=False) if args.seed is not None else model.default_params()
    path = model.export(args.out, params, left=args.left)
    mesh = model.to_trimesh(params, left=args.left)
    print(f"wrote {path}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces, volume {mesh.volume / 1000:.1f} cm^3")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from handviewer.launch import run_demo

    return run_demo(screenshot=args.screenshot, frame=args.frame, refined=args.refined)


def _cmd_open(args: argparse.Namespace) -> int:
    from handviewer.launch import run_app

    return run_app(args.video, keypoints=args.keypoints, predictions=args.predictions, screenshot=args.screenshot, frame=args.frame,
                   refined=args.refined)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="handviewer",
        description="See, measure and resolve intersections between two 3D hands in videos.",
        epilog="Open a video directly with: handviewer VIDEO [--keypoints FILE] [--screenshot PNG --frame N]",
    )
    parser.add_argument("--version", action="version", version=f"handviewer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="open the app on the bundled sample clip")
    p.add_argument("--screenshot", type=Path, help="render the window off screen to this PNG and exit")
    p.add_argument("--frame", type=int, default=0, help="frame to show (with --screenshot)")
    p.add_argument("--refined", action="store_true", help="with --screenshot: refine the frame, show before/after side by side")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("open", help="open a video, an image folder or a clean-dataset review.json (same as "
                                    "`handviewer PATH`)")
    p.add_argument("video", type=Path)
    p.add_argument("--keypoints", type=Path, help="2D keypoints (our JSON/NPZ, an OpenPose JSON file or folder)")
    p.add_argument("--predictions", type=Path, help="3D predictions of another estimator (JSON/NPZ, 42 joints)")
    p.add_argument("--screenshot", type=Path)
    p.add_argument("--frame", type=int, default=0)
    p.add_argument("--refined", action="store_true", help="with --screenshot: refine the frame, show before/after side by side")
    p.set_defaults(func=_cmd_open)

    p = sub.add_parser("mesh", help="export a posed hand mesh to PLY/OBJ")
    p.add_argument("out", type=Path, help="output file, .ply or .obj")
    p.add_argument("--detail", choices=["plain", "refined"], default="refined")
    p.add_argument("--seed", type=int, help="random pose from this seed (default: the rest pose)")
    p.add_argument("--left", action="store_true", help="the mirrored left hand")
    p.set_defaults(func=_cmd_mesh)

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


# Modules that add the longer-running sub-commands (training, batch processing, the sample clip),
# each by a `register(sub)` that loads only argparse-level code; the work itself is imported when
# the command runs.
COMMAND_MODULES = (
    "handviewer.occupancy.cli",
    "handviewer.uplift.cli",
    "handviewer.pipeline.process_cli",
    "handviewer.synth.cli",
    "handviewer.detect.cli",
    "handviewer.dataset.cli",
)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    known = {a for a in parser._subparsers._group_actions[0].choices} if parser._subparsers else set()  # noqa: SLF001
    if argv and not argv[0].startswith("-") and argv[0] not in known:
        argv = ["open", *argv]  # `handviewer VIDEO …`
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:  # bad input, unwritable output, full disk: one line, no traceback
        print(f"handviewer: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
