"""Where the frame pipeline runs: choosing the device on any machine, and the CUDA path agreeing
with the CPU where torch sees a CUDA device (those tests skip elsewhere)."""

import json

import numpy as np
import pytest
import torch

from handviewer.pipeline.video import VideoPipeline
from handviewer.devices import AUTO_CUDA_MIN_BATCH, device_or_cpu, pick_device
from handviewer.io import open_frames
from handviewer.hand.params import default_params
from handviewer.pipeline.stages import Initial, Pipeline
from handviewer.pipeline.settings import RefineSettings
from handviewer.pipeline.process import process_video
from handviewer.progress import drain
from handviewer.hand.pair import PairParams

from hv_pairs import intersecting_pairs

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture
def no_cuda(monkeypatch):
    """A machine where torch sees no CUDA device, whatever this one has."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_a_device_is_chosen_by_name_and_missing_cuda_is_said(no_cuda):
    assert pick_device("auto").type == "cpu"
    with pytest.raises(ValueError, match="no CUDA device"):
        pick_device("cuda")
    device, warning = device_or_cpu("cuda")  # the app: a saved setting from a GPU machine still opens
    assert device.type == "cpu" and "running on the CPU" in warning
    assert device_or_cpu("cpu") == (torch.device("cpu"), None)
    for bad in ("gpu", "cuda:7x"):
        with pytest.raises(ValueError, match="device must be one of"):
            pick_device(bad)
    with pytest.raises(ValueError, match="device must be one of"):
        RefineSettings(device="gpu")


def test_process_asked_for_cuda_without_one_stops_before_writing(small_clip, no_cuda, capsys):
    from handviewer.cli import main

    out = small_clip["dir"] / "out"
    assert main(["process", str(small_clip["video"]), "--out", str(out), "--device", "cuda"]) == 2
    assert "no CUDA device" in capsys.readouterr().err
    assert not out.exists()


def test_process_records_the_device_it_ran_on(small_clip, no_cuda):
    out = small_clip["dir"] / "out"
    drain(process_video(small_clip["video"], out, settings=RefineSettings(steps=2, device="auto"), metrics=False))
    assert json.loads((out / "metadata.json").read_text())["settings"]["device"] == "cpu"  # "auto", resolved


def test_auto_is_the_cpu_without_cuda_and_with_it_for_small_batches_only(no_cuda):
    pipe = Pipeline("auto")
    assert pipe.device_for(1).type == pipe.device_for(1000).type == "cpu"
    pipe.device = torch.device("cuda")  # as on a machine with one: no CUDA call is made below
    assert pipe.device_for(AUTO_CUDA_MIN_BATCH - 1).type == "cpu" and pipe.device_for(AUTO_CUDA_MIN_BATCH).type == "cuda"
    pipe.use_device("cpu")
    assert pipe.device_for(1000).type == "cpu"


class Reached(Exception):
    """Raised by a stand-in to stop a stage once it has seen its inputs."""


class RecordingNet:
    """Stands in for the uplift network: records the device of its inputs, then stops the stage."""

    def __init__(self) -> None:
        self.devices: list[torch.device] = []

    def __call__(self, keypoints, K):
        self.devices.append(keypoints.device)
        raise Reached


def test_each_stage_runs_where_device_for_says(monkeypatch):
    # "meta" stands for a second device on a machine with only a CPU: tensors there have no data,
    # so each stage is stopped as soon as its inputs arrive.
    meta, asked, seen = torch.device("meta"), [], []
    uplift = RecordingNet()
    pipe = Pipeline("cpu", occupancy="the occupancy network", uplift=uplift)
    monkeypatch.setattr(pipe, "device_for", lambda frames: asked.append(frames) or meta)
    kp, K = np.ones((3, 2, 21, 3), np.float32), np.eye(3)
    with pytest.raises(Reached):
        pipe.initial_from_keypoints(kp, K)
    assert uplift.devices == [meta] and asked == [3]

    def fit_ik(joints, device=None, **_):
        seen.append(device)
        raise Reached

    monkeypatch.setattr("handviewer.pipeline.stages.fit_ik", fit_ik)
    with pytest.raises(Reached):
        pipe.initial_from_joints(np.zeros((5, 2, 21, 3), np.float32))
    assert seen == [meta] and asked[-1] == 5

    def refine(net, start, keypoints, K, settings, weights):
        seen.append((net, start.right.angles.device, start.left.trans.device, keypoints.device, K.device))
        raise Reached
        yield  # a generator, as the real one

    monkeypatch.setattr("handviewer.pipeline.stages.refine", refine)
    pair = PairParams(default_params(4), default_params(4))
    present = torch.tensor([[True, True], [True, False], [True, True], [True, True]])
    with pytest.raises(Reached):
        drain(pipe.refine(Initial(pair, present, pair.joints()), np.ones((4, 2, 21, 3), np.float32), K, RefineSettings()))
    assert seen[-1] == ("the occupancy network", meta, meta, meta, meta) and asked[-1] == 3  # frames with both hands


def test_process_refines_in_batches_of_its_batch_size(small_clip, monkeypatch):
    sizes, asked = [], []
    real_refine, real_device_for = Pipeline.refine, Pipeline.device_for

    def refine(self, initial, *args, **kwargs):
        sizes.append(len(initial.present))
        return (yield from real_refine(self, initial, *args, **kwargs))

    monkeypatch.setattr(Pipeline, "refine", refine)
    monkeypatch.setattr(Pipeline, "device_for", lambda self, frames: asked.append(frames) or real_device_for(self, frames))
    monkeypatch.setattr("handviewer.pipeline.video.BATCH", 2)  # the app's batches: smaller than process's here
    drain(process_video(small_clip["video"], small_clip["dir"] / "out", settings=RefineSettings(steps=1), batch=4,
                        metrics=False))
    assert sizes == [4, 2]  # not the app's BATCH: a GPU needs large batches to pay
    assert asked[0] == 4  # "auto" is resolved from the batch size


def test_the_app_refines_on_the_cpu_with_a_warning_where_cuda_is_missing(small_clip, no_cuda):
    with open_frames(small_clip["video"]) as frames:
        computer = VideoPipeline(frames, small_clip["video"])
    said = []
    results = drain(computer.refine_many([0, 1], RefineSettings(steps=2, device="cuda")),
                    lambda fraction, message: said.append(message))
    assert sum("no CUDA device" in m and "running on the CPU" in m for m in said) == 1
    assert sorted(results) == [0, 1] and all(r.after is not None for r in results.values())
    said.clear()
    drain(computer.refine_many([2], RefineSettings(steps=2, device="cuda")), lambda fraction, message: said.append(message))
    assert not any("no CUDA device" in m for m in said)  # said once, not at every chunk of "Refine all"
    computer.pipeline.use_device("auto")
    drain(computer.refine_many([3], RefineSettings(steps=2, device="cpu")))
    assert not computer.pipeline.auto  # the setting took effect


# --- the CUDA path (skipped without a CUDA device) -----------------------------------------------


def _mean_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b, axis=-1).mean())


def _on_both(work) -> dict:
    """{"cpu": work(pipeline, "cpu"), "cuda": work(pipeline, "cuda")}, each with its own Pipeline."""
    return {name: work(Pipeline(name), name) for name in ("cpu", "cuda")}


@needs_cuda
def test_ik_and_refinement_on_cuda_agree_with_the_cpu():
    pushed, _ = intersecting_pairs(8, seed=3)

    def work(pipe, name):
        initial = pipe.initial_from_joints(pushed)
        assert initial.joints.device.type == "cpu"  # callers never see device tensors
        refined = drain(pipe.refine(initial, None, None, RefineSettings(device=name)))
        assert refined.right.angles.device.type == "cpu"
        counts = [pipe.metrics(refined, initial.present, i, None, None, None)[0].intersection_count for i in range(8)]
        return initial.joints.numpy(), refined.joints().numpy(), counts

    runs = _on_both(work)
    (ik_cpu, after_cpu, counts_cpu), (ik_gpu, after_gpu, counts_gpu) = runs["cpu"], runs["cuda"]
    assert np.abs(ik_gpu - ik_cpu).max() < 0.05  # mm: the same IK fit
    # Refinement branches on thresholds (does a frame touch? at which relax fraction are the hands
    # apart?), and one frame still touching keeps the batch's Adam going one more step, so float
    # rounding can move frames a millimetre or two apart: compare what the user gets instead.
    moved = {name: np.linalg.norm(run[1] - run[0], axis=-1).mean((1, 2)) for name, run in runs.items()}
    assert sum(c > 0 for c in counts_gpu) <= sum(c > 0 for c in counts_cpu) + 1, (counts_cpu, counts_gpu)
    assert abs(moved["cuda"].mean() - moved["cpu"].mean()) < 1.0, moved  # as small a push
    assert _mean_distance(after_gpu, after_cpu) < 3.0, np.linalg.norm(after_gpu - after_cpu, axis=-1).mean((1, 2))


@needs_cuda
def test_uplift_and_keypoint_refinement_on_cuda_agree_with_the_cpu(small_clip):
    kp, K = small_clip["keypoints"], small_clip["K"]

    def work(pipe, name):
        initial = pipe.initial_from_keypoints(kp, K)
        return initial.joints.numpy(), drain(pipe.refine(initial, kp, K, RefineSettings(device=name))).joints().numpy()

    runs = _on_both(work)
    assert np.abs(runs["cuda"][0] - runs["cpu"][0]).max() < 0.05
    assert _mean_distance(runs["cuda"][1], runs["cpu"][1]) < 1.0


@needs_cuda
def test_metrics_on_cuda_equal_the_cpu():
    pushed, _ = intersecting_pairs(4, seed=7)

    def work(pipe, name):
        initial = pipe.initial_from_joints(pushed)
        return [pipe.metrics(initial.pair, initial.present, i, None, None, None) for i in range(4)]

    metrics = _on_both(work)
    for (cpu, p_cpu, q_cpu), (gpu, p_gpu, q_gpu) in zip(metrics["cpu"], metrics["cuda"]):
        assert cpu.intersection_count > 0
        assert abs(gpu.intersection_count - cpu.intersection_count) <= max(2, 0.01 * cpu.intersection_count)
        assert gpu.ave_p_mm == pytest.approx(cpu.ave_p_mm, abs=1e-3)
        assert gpu.max_p_mm == pytest.approx(cpu.max_p_mm, abs=1e-3)
        assert abs(gpu.occupancy_count - cpu.occupancy_count) <= 2
        assert len(q_gpu) == len(p_gpu)


@needs_cuda
def test_process_and_the_app_run_on_cuda(small_clip):
    outs = {}
    for name in ("cpu", "cuda"):
        outs[name] = small_clip["dir"] / f"out_{name}"
        drain(process_video(small_clip["video"], outs[name], settings=RefineSettings(steps=10, device=name), batch=4))
    meta = json.loads((outs["cuda"] / "metadata.json").read_text())
    assert meta["settings"]["device"] == "cuda"
    # "auto" uses CUDA only for batches where it pays, and then for every batch of the run
    for batch, expected in ((AUTO_CUDA_MIN_BATCH - 1, "cpu"), (AUTO_CUDA_MIN_BATCH, "cuda")):
        out = small_clip["dir"] / f"out_auto_{batch}"
        drain(process_video(small_clip["video"], out, settings=RefineSettings(steps=2, device="auto"), batch=batch,
                            metrics=False))
        assert json.loads((out / "metadata.json").read_text())["settings"]["device"] == expected
    after = {name: np.load(out / "hands.npz")["joints"] for name, out in outs.items()}
    assert _mean_distance(after["cuda"], after["cpu"]) < 1.0
    # The app: refinement on the chosen device, then the density cloud with the network there.
    with open_frames(small_clip["video"]) as frames:
        computer = VideoPipeline(frames, small_clip["video"])
    result = drain(computer.refine(3, RefineSettings(steps=10, device="cuda")))
    assert computer.pipeline.device.type == "cuda" and result.after is not None
    points, probs = computer.density_cloud(result.after, 0, resolution=16)
    assert len(points) > 10 and probs.max() > 0.5
    assert computer.compute_initial(4).before is not None  # later frames on the device too
