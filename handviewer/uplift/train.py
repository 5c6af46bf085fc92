"""Training the uplift model, and fine-tuning it with the intersection loss (the paper's experiment).

Seeded and resumable; CUDA when present. The loss: root-relative joint error of each hand (mm),
error of the left-wrist offset (mm), and small terms on angles and bone lengths; optionally
`intersection_weight` x the intersection loss (dense points, both hands) of the predicted pair.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from handviewer.cache import atomic_save_torch, cache_dir, load_torch_blob
from handviewer.devices import pick_device
from handviewer.training import cosine_schedule, hardware, resume, save_checkpoint
from handviewer.uplift.model import UpliftConfig, UpliftNet
from handviewer.uplift.predict import relative_joints
from handviewer.uplift.synthetic import PairPool, make_pool, view


@dataclass
class UpliftTrainConfig:
    pool: int = 20000  # two-hand configurations (each seen from new random views at every step)
    steps: int = 4000
    batch: int = 256
    lr: float = 1e-3
    seed: int = 0
    device: str = "auto"
    intersection_weight: float = 0.0  # > 0: add the intersection loss (needs occupancy weights)
    checkpoint_every: int = 250
    net: UpliftConfig = field(default_factory=UpliftConfig)

    def to_dict(self) -> dict:
        return asdict(self)


def cached_pool(n: int, seed: int) -> PairPool:
    path = cache_dir("uplift") / f"pool_v1_{n}_{seed}.pt"
    if path.exists():
        return PairPool(**torch.load(path, weights_only=True))
    pool = make_pool(n, seed)
    atomic_save_torch({"joints": pool.joints, "angles": pool.angles, "bones": pool.bones}, path)
    return pool


def uplift_loss(net, kp, K, joints, angles, bones, occupancy=None, intersection_weight: float = 0.0) -> dict:
    right, left, offset = net(kp, K)
    rel = relative_joints(right, left, offset)  # right wrist at the origin
    gt = joints - joints[:, :1, :1]
    per_hand = ((rel - rel[:, :, :1]) - (gt - gt[:, :, :1])).norm(dim=-1).mean((0, 2))  # (2,) mm
    offset_err = (rel[:, 1, 0] - gt[:, 1, 0]).norm(dim=-1).mean()
    angle_err = (torch.stack([right.angles, left.angles], 1) - angles).abs().mean()
    bone_err = (torch.stack([right.bones, left.bones], 1) - bones).abs().mean()
    loss = per_hand.sum() + 0.5 * offset_err + 10.0 * angle_err + 0.5 * bone_err
    out = {"mpjpe_right": per_hand[0], "mpjpe_left": per_hand[1], "offset": offset_err}
    if occupancy is not None and intersection_weight > 0:
        from handviewer.intersect import intersection_loss

        inter = intersection_loss(occupancy, rel[:, 0], rel[:, 1], point_set="dense", both=True).mean()
        loss = loss + intersection_weight * inter
        out["intersection"] = inter
    out["loss"] = loss
    return out


def train(cfg: UpliftTrainConfig, out: Path, checkpoint: Path | None = None, init: Path | None = None) -> Generator[tuple[float, str], None, UpliftNet]:
    """Train (or, with `init`, fine-tune from those weights) and write the weights to `out`."""
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    yield 0.0, "making the pool of two-hand configurations"
    pool = cached_pool(cfg.pool, cfg.seed)
    net = UpliftNet(cfg.net).to(device)
    if init is not None:
        net.load_state_dict(load_weights(init).state_dict())
    occupancy = None
    if cfg.intersection_weight > 0:
        from handviewer.occupancy import load_default

        occupancy = load_default(device)  # frozen
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = cosine_schedule(opt, cfg.steps)
    g = torch.Generator().manual_seed(cfg.seed)
    step, started = resume(checkpoint, cfg.to_dict(), device, net, opt, sched, g)
    net.train()
    while step < cfg.steps:
        index = torch.randint(0, len(pool), (cfg.batch,), generator=g)
        kp, K, joints = view(pool, index, g)
        terms = uplift_loss(net, kp.to(device), K.to(device), joints.to(device), pool.angles[index].to(device),
                            pool.bones[index].to(device), occupancy, cfg.intersection_weight)
        opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        sched.step()
        step += 1
        if checkpoint is not None and (step % cfg.checkpoint_every == 0 or step == cfg.steps):
            save_checkpoint(checkpoint, cfg.to_dict(), net, opt, sched, g, step, started)
        if step % 20 == 0 or step == cfg.steps:
            msg = " ".join(f"{k} {v.item():.2f}" for k, v in terms.items() if k != "loss")
            yield step / cfg.steps, f"step {step}/{cfg.steps} {msg}"
    net.eval()
    save_weights(net, out, {"train_config": cfg.to_dict(), "train_seconds": round(time.time() - started),
                            "hardware": hardware(device), "fine_tuned_from": str(init) if init else None})
    return net


def save_weights(net: UpliftNet, path: Path, meta: dict) -> None:
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    atomic_save_torch({"format": "handviewer-uplift", "version": 1, "config": net.cfg.to_dict(), "state_dict": state, "meta": meta}, Path(path))


def load_weights(path: Path, device=None) -> UpliftNet:
    blob = load_torch_blob(path, "handviewer-uplift", "uplift weights", device)
    net = UpliftNet(UpliftConfig(**blob["config"]))
    net.load_state_dict(blob["state_dict"])
    net.meta = blob.get("meta", {})
    return net.to(device or "cpu").eval()
