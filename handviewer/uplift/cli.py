"""`handviewer train-uplift`."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("train-uplift", help="train (or fine-tune) the 2D-to-3D uplift model on synthetic two-hand data")
    p.add_argument("--out", type=Path, default=Path("assets/uplift.pt"))
    p.add_argument("--checkpoint", type=Path, default=Path("runs/uplift.ckpt"))
    p.add_argument("--init", type=Path, help="fine-tune from these weights instead of starting afresh")
    p.add_argument("--intersection-weight", type=float, default=0.0,
                   help="weight of the intersection loss (dense, both hands); needs the occupancy weights")
    p.add_argument("--pool", type=int, default=20000)
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=_train)


def _train(args: argparse.Namespace) -> int:
    from handviewer.progress import drain
    from handviewer.progress import TextProgress
    from handviewer.uplift.train import UpliftTrainConfig, train

    cfg = UpliftTrainConfig(pool=args.pool, steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed,
                            device=args.device, intersection_weight=args.intersection_weight)
    net = drain(train(cfg, args.out, args.checkpoint, args.init), TextProgress("train-uplift"))
    print(f"wrote {args.out}: {net.num_parameters()} parameters")
    return 0
