"""The dataset job's compute in two stages (`dataset.stages`: fit and refine, then measure) gives what
`pipeline.run` gives, bit for bit, and the two stage workers write what one worker writes."""

import numpy as np
from hv_dataset import CHUNK


def _prepared(synthetic, tmp_path):
    from handviewer.dataset import work as W
    from handviewer.dataset.layout import find_annotation_sets
    from handviewer.progress import drain

    work = W.open_work_folder(tmp_path / "out", {"test": 1})
    drain(W.prepare(work, find_annotation_sets([synthetic.joint_3d]), 2 * CHUNK))
    return work


def test_fit_then_measure_is_pipeline_run(synthetic, tmp_path):
    from handviewer.dataset import work as W
    from handviewer.dataset.stages import fit, measure
    from handviewer.dataset.worker import frame_batch
    from handviewer.dataset.layout import to_world
    from handviewer.hand.skeleton import to_interhand
    from handviewer.pipeline.run import run
    from handviewer.pipeline.settings import RefineSettings
    from handviewer.pipeline.stages import Pipeline
    from handviewer.progress import drain

    work = _prepared(synthetic, tmp_path)
    inputs = {k: v[:CHUNK] for k, v in W.load_npz(work / "inputs" / W.shard_name(0)).items()}
    pipeline, settings = Pipeline("cpu"), RefineSettings()
    staged = measure(pipeline, inputs, fit(pipeline, inputs, settings))
    results = drain(run(pipeline, frame_batch(inputs), settings, metrics=True, meshes=False))
    for k, r in enumerate(results):  # what the worker wrote when it called run() itself
        for name, estimate in (("initial_world", r.before), ("refined_world", r.after)):
            back = to_world(to_interhand(estimate.joints).astype(np.float64), inputs["R"][k], inputs["t"][k])
            np.testing.assert_array_equal(staged[name][k], np.where(inputs["valid"][k][:, None], back, inputs["world"][k]))
        for when, m in (("before", r.metrics_before), ("after", r.metrics_after)):
            assert staged[f"volume_{when}"][k] == m.intersection_volume_cm3
            assert staged[f"depth_{when}"][k] == m.max_p_mm
            assert staged[f"count_{when}"][k] == m.intersection_count
    assert (staged["volume_before"] > staged["volume_after"]).any()  # something was refined


def test_two_stage_workers_write_what_one_worker_writes(synthetic, tmp_path):
    from handviewer.dataset import work as W
    from handviewer.dataset.stages import FITTED, ShardFitter, ShardMeasurer
    from handviewer.dataset.worker import ShardCleaner
    from handviewer.pipeline.settings import RefineSettings
    from dataclasses import asdict

    work = _prepared(synthetic, tmp_path)
    options = {"work": str(work), "settings": asdict(RefineSettings()), "chunk": CHUNK}
    ShardCleaner(**options).compute_shard(0)
    one = W.load_npz(work / "results" / W.shard_name(0))
    (work / "results" / W.shard_name(0)).unlink()
    out = ShardFitter(**options)({"shard": np.array([0])})
    assert (work / FITTED / W.shard_name(0)).is_file() and not (work / "results" / W.shard_name(0)).exists()
    out = ShardMeasurer(**options)(out)
    assert int(out["frames"][0]) == 2 * CHUNK and out["seconds"][0] > 0
    two = W.load_npz(work / "results" / W.shard_name(0))
    for key in W.RESULT_KEYS:
        np.testing.assert_array_equal(two[key], one[key], err_msg=key)
