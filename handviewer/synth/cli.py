"""Command line of the synthetic data: `python -m handviewer.synth.cli make-sample --out assets/sample`.

`register(subparsers)` adds the same `make-sample` sub-command to another parser (the `handviewer`
command's, see `handviewer.cli`); building it loads neither torch nor the synthesis.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from handviewer.synth.names import SAMPLE_KIND, SCENE_KINDS


def _cmd_make_sample(args: argparse.Namespace) -> int:
    from handviewer.progress import TextProgress
    from handviewer.synth.sample import make_sample

    kind = None if args.kind == "random" else args.kind
    summary = make_sample(args.out, frames=args.frames, seed=args.seed, kind=kind, measure=not args.no_measure,
                          supersample=args.supersample, progress=TextProgress("make-sample"))
    gt, pred = summary["gt_intersection_cm3"], summary["pred_intersection_cm3"]
    print(f"wrote {summary['out']} ({summary['bytes'] / 1e6:.2f} MB) in {summary['seconds']:.0f} s: "
          f"{summary['kind']}, MPJPE of the predictions {summary['mpjpe_mm']:.1f} mm")
    if args.no_measure:
        return 0
    print(f"frames intersecting (> 0.1 cm^3): ground truth {(gt > 0.1).sum()}/{len(gt)}, "
          f"predictions {(pred > 0.1).sum()}/{len(pred)}")
    return 0


def register(sub) -> None:
    """Add `make-sample` to an argparse sub-parsers object."""
    p = sub.add_parser("make-sample", help="write the synthetic sample clip (video, keypoints, predictions, ground truth)")
    p.add_argument("--out", type=Path, default=Path("assets/sample"), help="output folder (created)")
    p.add_argument("--frames", type=int, default=100)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--kind", choices=[*SCENE_KINDS, "random"], default=SAMPLE_KIND, help="interaction kind")
    p.add_argument("--supersample", type=int, default=2, help="anti-aliasing samples per pixel side")
    p.add_argument("--no-measure", action="store_true", help="skip the per-frame intersection volumes (faster)")
    p.set_defaults(func=_cmd_make_sample)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handviewer.synth.cli", description="Synthetic two-hand data.")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
