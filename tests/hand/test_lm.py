import torch

from handviewer.hand import HandModel, HandParams, forward_kinematics
from handviewer.hand.lm import levenberg_marquardt
from handviewer.hand.params import limits


def test_recovers_hand_poses_from_their_joints_within_the_limits():
    model = HandModel()
    truth = model.random_params(16, seed=31).to(dtype=torch.float64)
    target = forward_kinematics(truth).joints
    start = truth.map(lambda t: t.clone())
    start.angles += 0.15 * torch.randn(start.angles.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    start.rot += 0.1
    start.trans += 20.0

    def residuals(x, problem):
        params = HandParams(rot=x[:, :3], trans=x[:, 3:6], bones=truth.bones[problem], angles=x[:, 6:])
        return (forward_kinematics(params).joints - target[problem]).reshape(len(x), -1)

    low, high = limits(dtype=torch.float64)
    free = torch.full((6,), float("inf"), dtype=torch.float64)
    x0 = torch.cat([start.rot, start.trans, start.angles], 1)
    x = levenberg_marquardt(residuals, x0, torch.cat([-free, low]), torch.cat([free, high]), iterations=20)
    error = residuals(x, torch.arange(16)).reshape(16, 21, 3).norm(dim=-1)
    assert error.mean() < 1e-3  # mm
    assert (x[:, 6:] >= low).all() and (x[:, 6:] <= high).all()


def test_a_target_beyond_a_bound_ends_on_the_bound_and_the_free_parameters_still_fit():
    target = torch.tensor([[2.0, -3.0, 0.5], [0.2, 0.3, -0.4]], dtype=torch.float64)

    def residuals(x, problem):  # coupled: the third residual mixes parameters 0 and 2
        t = target[problem]
        return torch.stack([x[:, 0] - t[:, 0], x[:, 1] - t[:, 1], x[:, 2] + 0.5 * x[:, 0] - t[:, 2] - 0.5 * t[:, 0]], 1)

    low = torch.tensor([-1.0, -1.0, -10.0], dtype=torch.float64)
    high = torch.tensor([1.0, 1.0, 10.0], dtype=torch.float64)
    x = levenberg_marquardt(residuals, torch.zeros(2, 3, dtype=torch.float64), low, high)
    # Row 0: x0 and x1 held on their bounds; x2 then minimises its residual given x0 = 1.
    assert torch.allclose(x[0], torch.tensor([1.0, -1.0, 0.5 + 0.5 * (2.0 - 1.0)], dtype=torch.float64), atol=1e-6)
    assert torch.allclose(x[1], target[1], atol=1e-6)  # row 1 is inside the box: exact


def test_never_returns_a_worse_point_than_the_start():
    def residuals(x, problem):  # a cost with its minimum at the start, and steep walls
        return torch.cat([x, 1e3 * x.square()], 1)


    start = torch.zeros(3, 4)
    x = levenberg_marquardt(lambda x, problem: residuals(x, problem).double(), start)
    assert torch.equal(x, start) and x.dtype == torch.float32


def test_float32_residuals_are_refused():
    import pytest

    with pytest.raises(TypeError, match="float64"):
        levenberg_marquardt(lambda x, problem: x.float(), torch.zeros(1, 2))


def test_a_step_that_leaves_the_box_solves_the_free_parameters_given_the_bound():
    """When the Gauss-Newton step carries a parameter past its bound, that parameter goes onto the
    bound and the others are solved given it: one step reaches the constrained minimum of a linear
    problem, where clipping the step alone left the others balancing an overshoot that did not
    happen (and LM then crawled along the limits)."""

    def residuals(x, problem):  # minimum at (3, 2.5); with x0 <= 1, at (1, 1.5)
        return torch.stack([x[:, 0] - 3.0, x[:, 1] - 0.5 * x[:, 0] - 1.0], 1)

    start = torch.zeros(1, 2, dtype=torch.float64)
    high = torch.tensor([1.0, 10.0], dtype=torch.float64)
    x = levenberg_marquardt(residuals, start, None, high, iterations=1)
    assert torch.allclose(x, torch.tensor([[1.0, 1.5]], dtype=torch.float64), atol=1e-2)
