"""The training loops' shared parts: cosine schedule, checkpoints that resume a run exactly."""

import math

import pytest
import torch

from handviewer.training import cosine_schedule, hardware, resume, save_checkpoint


def make(config, steps=10):
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    return net, opt, cosine_schedule(opt, steps), torch.Generator().manual_seed(config["seed"])


def run(net, opt, sched, g, start, stop, checkpoint=None, config=None, started=0.0):
    for step in range(start, stop):
        x = torch.randn(4, 3, generator=g)
        loss = net(x).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if checkpoint is not None and step + 1 == stop:
            save_checkpoint(checkpoint, config, net, opt, sched, g, step + 1, started)


def test_cosine_schedule_falls_from_the_full_rate_to_zero_and_stays():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2.0)
    sched = cosine_schedule(opt, 4)
    rates = []
    for _ in range(6):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rates == pytest.approx([2.0, 1.0 + math.cos(math.pi / 4), 1.0, 1.0 + math.cos(3 * math.pi / 4), 0.0, 0.0])


def test_a_run_resumed_from_its_checkpoint_ends_where_an_uninterrupted_one_does(tmp_path):
    config, ckpt = {"seed": 3}, tmp_path / "run.ckpt"
    straight = make(config)
    run(*straight, 0, 10)
    first = make(config)
    assert resume(ckpt, config, "cpu", *first)[0] == 0  # no checkpoint yet: from step 0
    run(*first, 0, 4, ckpt, config)
    second = make(config)  # a new process: fresh objects, state from the checkpoint
    step, _ = resume(ckpt, config, "cpu", *second)
    assert step == 4
    run(*second, step, 10)
    for a, b in zip(straight[0].parameters(), second[0].parameters()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="other settings"):
        resume(ckpt, {"seed": 4}, "cpu", *make({"seed": 4}))


def test_hardware_names_the_cpu_and_threads():
    assert "CPU" in hardware(torch.device("cpu"))
