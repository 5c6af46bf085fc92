"""Training the occupancy network: seeded, resumable, checkpointed, CUDA when present."""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from handviewer.cache import atomic_save_torch, load_torch_blob
from handviewer.devices import pick_device
from handviewer.occupancy import data as occ_data
from handviewer.occupancy.network import OccupancyConfig, OccupancyNetwork
from handviewer.progress import scaled
from handviewer.training import cosine_schedule, hardware, resume, save_checkpoint


@dataclass
class TrainConfig:
    hands: int = 4000  # training hands (8,192 labelled points each)
    val_hands: int = 64  # held out, from another seed, for the loss printed during training
    steps: int = 5000
    batch: int = 32  # hands per step
    points: int = 1024  # points per hand per step, drawn from its 8,192
    lr: float = 3e-3
    seed: int = 0
    device: str = "auto"
    checkpoint_every: int = 250
    net: OccupancyConfig = field(default_factory=OccupancyConfig)
    anatomical_share: float = 0.0  # share of training hands over the anatomical ranges (see occ_data.generate)
    init: str | None = None  # start from these weights (fine-tuning) instead of from scratch

    def to_dict(self) -> dict:
        return asdict(self)


def train(cfg: TrainConfig, out: Path, checkpoint: Path | None = None) -> Generator[tuple[float, str], None, OccupancyNetwork]:
    """Train and write the weights to `out`; resumes from `checkpoint` when it exists.

    Yields (fraction, message) progress: first data generation (the first 10 %), then steps.
    """
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    share = cfg.anatomical_share
    train_data = yield from scaled(occ_data.cached(cfg.hands, cfg.seed, anatomical_share=share), 0.0, 0.09, "data")
    val_data = yield from scaled(occ_data.cached(cfg.val_hands, cfg.seed + 10_000, anatomical_share=share), 0.09, 0.1,
                                 "validation data")

    net = OccupancyNetwork(cfg.net).to(device)
    if cfg.init is not None:
        start = load_weights(Path(cfg.init))
        if start.cfg != net.cfg:
            raise ValueError(f"--init weights have another architecture ({start.cfg}) than asked for ({net.cfg})")
        net.load_state_dict(start.state_dict())
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sched = cosine_schedule(opt, cfg.steps)
    g = torch.Generator().manual_seed(cfg.seed)
    step, started = resume(checkpoint, cfg.to_dict(), device, net, opt, sched, g)

    points = torch.from_numpy(train_data.points)
    inside = torch.from_numpy(train_data.inside)
    joints = torch.from_numpy(train_data.joints)
    net.train()
    while step < cfg.steps:
        hands = torch.randint(0, len(joints), (cfg.batch,), generator=g)
        idx = torch.randint(0, points.shape[1], (cfg.batch, cfg.points), generator=g)
        p = torch.gather(points[hands], 1, idx[..., None].expand(-1, -1, 3)).float().to(device)
        y = torch.gather(inside[hands], 1, idx).float().to(device)
        j = joints[hands].to(device)
        loss = F.binary_cross_entropy_with_logits(net.decode(p, j, net.encode(j)), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            val = validation_loss(net, val_data, device)
            net.train()
            if checkpoint is not None:
                save_checkpoint(checkpoint, cfg.to_dict(), net, opt, sched, g, step, started)
            yield 0.1 + 0.9 * step / cfg.steps, f"step {step}/{cfg.steps} loss {loss.item():.4f} val {val['loss']:.4f} acc {val['accuracy']:.4f}"
        elif step % 20 == 0:
            yield 0.1 + 0.9 * step / cfg.steps, f"step {step}/{cfg.steps} loss {loss.item():.4f}"

    net.eval()
    save_weights(net, out, {"train_config": cfg.to_dict(), "train_seconds": round(time.time() - started), "hardware": hardware(device)})
    return net


@torch.no_grad()
def validation_loss(net: OccupancyNetwork, data: occ_data.OccupancyData, device) -> dict:
    net.eval()
    p = torch.from_numpy(data.points).float().to(device)
    y = torch.from_numpy(data.inside).float().to(device)
    j = torch.from_numpy(data.joints).to(device)
    logits = net.decode(p, j, net.encode(j))
    return {"loss": F.binary_cross_entropy_with_logits(logits, y).item(), "accuracy": ((logits > 0) == (y > 0.5)).float().mean().item()}


def save_weights(net: OccupancyNetwork, path: Path, meta: dict) -> None:
    """Weights + config + how they were made, as a small float32 file (the shipped asset format)."""
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    atomic_save_torch({"format": "handviewer-occupancy", "version": 1, "config": net.cfg.to_dict(), "state_dict": state, "meta": meta}, Path(path))


def load_weights(path: Path, device=None) -> OccupancyNetwork:
    """A trained network, in eval mode and frozen: refinement and the uplift's fine-tuning need
    gradients through it, never of its weights (those would cost a third of every backward pass).
    To train it further, call `.train().requires_grad_(True)` on it."""
    blob = load_torch_blob(path, "handviewer-occupancy", "occupancy weights", device)
    net = OccupancyNetwork(OccupancyConfig(**blob["config"]))
    net.load_state_dict(blob["state_dict"])
    net.meta = blob.get("meta", {})
    return net.to(device or "cpu").eval().requires_grad_(False)


__all__ = ["TrainConfig", "train", "save_weights", "load_weights", "pick_device", "np"]
