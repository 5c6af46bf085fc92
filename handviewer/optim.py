"""Adam for the small per-frame optimisations (refinement's push, IK of large batches).

The same update as `torch.optim.Adam` (no weight decay, no AMSGrad), with its `param_groups`,
`zero_grad` and `step`. Why not torch's: constructing the first `torch.optim` optimizer of a process
imports `torch._dynamo` (2-3 s on the 2-core CI machine), which the app paid on the first frame whose
hands needed the Adam push and `process` on every run (the training commands still use torch's).
"""

from __future__ import annotations

import math

import torch


class Adam:
    """params: a list of {"params": [tensors], "lr": float, ...} groups (extra keys are kept, as in
    torch's), or of tensors (one group at `lr`)."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        params = list(params)
        groups = params if params and isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = [{"lr": lr, **g, "params": list(g["params"])} for g in groups]
        self.betas, self.eps, self.steps = betas, eps, 0
        self._state: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        b1, b2 = self.betas
        correction1, correction2 = 1.0 - b1**self.steps, 1.0 - b2**self.steps
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                m, v = self._state.setdefault(id(p), (torch.zeros_like(p), torch.zeros_like(p)))
                m.lerp_(p.grad, 1.0 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1.0 - b2)
                denom = (v.sqrt() / math.sqrt(correction2)).add_(self.eps)
                p.addcdiv_(m, denom, value=-group["lr"] / correction1)


def cosine_lr(base: float, step: int, total: int) -> float:
    """`torch.optim.lr_scheduler.CosineAnnealingLR` (eta_min 0): the rate after `step` of `total` steps."""
    return 0.5 * base * (1.0 + math.cos(math.pi * step / total))
