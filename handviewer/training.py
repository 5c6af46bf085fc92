"""What the training loops (`occupancy.train`, `uplift.train`) share: the cosine learning-rate
schedule, resumable checkpoints and the hardware line of the weights' metadata."""

from __future__ import annotations

import math
import platform
import time
from pathlib import Path

import torch

from handviewer.cache import atomic_save_torch


def cosine_schedule(opt: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The optimiser's learning rate times 0.5 (1 + cos(pi s / steps)) at step s: from its full rate
    at step 0 down to 0 at `steps`, and 0 after."""
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))


def resume(checkpoint: Path | None, config: dict, device, net: torch.nn.Module, opt: torch.optim.Optimizer,
           sched, generator: torch.Generator) -> tuple[int, float]:
    """Load `checkpoint` (when given and present) into the network, optimiser, schedule and sampling
    generator, in place. Returns (step, started): the steps done and the wall-clock start time
    (time.time() s, moved back by the time already spent); (0, now) without a checkpoint.
    A checkpoint made with another `config` (the training config as a dict) is an error."""
    if checkpoint is None or not Path(checkpoint).exists():
        return 0, time.time()
    state = torch.load(checkpoint, map_location=device, weights_only=False)
    if state["config"] != config:
        raise ValueError(f"checkpoint {checkpoint} was made with other settings; delete it or use the same ones")
    net.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    generator.set_state(state["generator"])
    return state["step"], time.time() - state["elapsed"]


def save_checkpoint(checkpoint: Path, config: dict, net: torch.nn.Module, opt: torch.optim.Optimizer, sched,
                    generator: torch.Generator, step: int, started: float) -> None:
    """Write what `resume` reads, atomically."""
    atomic_save_torch({"model": net.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                       "generator": generator.get_state(), "step": step, "elapsed": time.time() - started,
                       "config": config}, Path(checkpoint))


def hardware(device: torch.device) -> str:
    """What trained the weights: the GPU's name, or the CPU and torch's thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"
