"""`handviewer train-occupancy` and `handviewer eval-occupancy`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("train-occupancy", help="train the occupancy network on hands made by the hand model")
    p.add_argument("--out", type=Path, default=Path("assets/occupancy.pt"), help="weights file to write")
    p.add_argument("--checkpoint", type=Path, default=Path("runs/occupancy.ckpt"), help="resumable checkpoint")
    p.add_argument("--hands", type=int, default=4000)
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--points", type=int, default=1024)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--anatomical-share", type=float, default=0.0,
                   help="share of training hands drawn over the anatomical joint ranges (twisted fingers, per-person "
                        "palms) instead of the typical ones (default: %(default)s)")
    p.add_argument("--init", type=Path, help="start from these weights (fine-tuning) instead of from scratch")
    p.set_defaults(func=_train)

    p = sub.add_parser("eval-occupancy", help="IoU of occupancy weights on held-out hands (50^3 grid per hand)")
    p.add_argument("--weights", type=Path, help="default: the shipped weights")
    p.add_argument("--hands", type=int, default=200)
    p.add_argument("--ranges", choices=("typical", "anatomical"), default="typical",
                   help="joint ranges of the held-out hands: typical (the training distribution) or anatomical "
                        "(everything IK and refinement may produce, twisted fingers included) (default: %(default)s)")
    p.add_argument("--json", type=Path, help="also write the summary here")
    p.set_defaults(func=_evaluate)


def _train(args: argparse.Namespace) -> int:
    from handviewer.progress import drain
    from handviewer.occupancy.network import OccupancyConfig
    from handviewer.occupancy.train import TrainConfig, train
    from handviewer.progress import TextProgress

    cfg = TrainConfig(hands=args.hands, steps=args.steps, batch=args.batch, points=args.points, lr=args.lr,
                      seed=args.seed, device=args.device, net=OccupancyConfig(hidden=args.hidden),
                      anatomical_share=args.anatomical_share, init=str(args.init) if args.init else None)
    net = drain(train(cfg, args.out, args.checkpoint), TextProgress("train-occupancy"))
    print(f"wrote {args.out}: {net.num_parameters()} parameters, trained in {net_meta(args.out)['train_seconds']} s")
    return 0


def net_meta(path: Path) -> dict:
    from handviewer.occupancy.train import load_weights

    return load_weights(path).meta


def _evaluate(args: argparse.Namespace) -> int:
    from handviewer.occupancy import load_default
    from handviewer.progress import drain
    from handviewer.occupancy.evaluate import grid_iou, summary
    from handviewer.occupancy.train import load_weights
    from handviewer.progress import TextProgress

    net = load_weights(args.weights) if args.weights else load_default()
    result = summary(drain(grid_iou(net, hands=args.hands, ranges=args.ranges), TextProgress("eval-occupancy")))
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0
