import torch

from handviewer.optim import Adam, cosine_lr


def test_adam_takes_torchs_steps_with_groups_and_rates_changed_on_the_way():
    torch.manual_seed(0)
    target = torch.randn(5, 3)
    ours = [torch.randn(5, 3, requires_grad=True), torch.randn(4, requires_grad=True)]
    theirs = [t.detach().clone().requires_grad_(True) for t in ours]
    start = float((ours[0] - target).abs().sum())
    groups = lambda ts: [{"params": [ts[0]], "lr": 0.05, "name": "a"}, {"params": [ts[1]], "lr": 0.0}]  # noqa: E731
    a, b = Adam(groups(ours), eps=0.1), torch.optim.Adam(groups(theirs), eps=0.1)
    for step in range(30):
        if step == 10:  # a group switched on later, as the refinement's joints are
            for opt in (a, b):
                opt.param_groups[1]["lr"] = 0.02
        for opt, (x, y) in ((a, ours), (b, theirs)):
            opt.zero_grad(set_to_none=True)
            ((x - target).square().sum() + (y - 1.0).abs().sum()).backward()
            opt.step()
    for x, y in zip(ours, theirs):
        assert torch.allclose(x, y, atol=1e-6)
    assert a.param_groups[0]["name"] == "a" and float((ours[0].detach() - target).abs().sum()) < 0.5 * start


def test_cosine_rate_matches_torchs_scheduler():
    x = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 20)
    for step in range(1, 21):
        opt.step()
        sched.step()
        assert abs(opt.param_groups[0]["lr"] - cosine_lr(0.3, step, 20)) < 1e-9
