"""FrameResult dicts to and from a flat dict of numpy arrays (for ``np.savez``). No maths.

Keys: ``r<index>.<field>`` for arrays, ``r<index>.<estimate>.<field>`` for HandsEstimate fields,
``r<index>.<estimate>.params.<name>``, ``r<index>.metrics_<which>`` (float vector in
`FrameMetrics` field order, with the names in ``metric_names``). Identical face arrays are
stored once (``faces.<k>``) and referenced by number.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np

from handviewer.pipeline.results import FrameMetrics, FrameResult, HandsEstimate

_METRIC_NAMES = [f.name for f in dataclasses.fields(FrameMetrics)]
_ARRAY_FIELDS = ("keypoints_2d", "intersection_points_before", "intersection_probs_before",
                 "intersection_points_after", "intersection_probs_after", "camera_K")


def results_to_arrays(results: dict[int, FrameResult]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"metric_names": np.array(_METRIC_NAMES)}
    faces_ids: dict[bytes, int] = {}
    for i, r in sorted(results.items()):
        p = f"r{i}."
        out[p + "index"] = np.array(r.index)
        for name in _ARRAY_FIELDS:
            value = getattr(r, name)
            if value is not None:
                out[p + name] = np.asarray(value)
        for which in ("before", "after"):
            est, metrics = getattr(r, which), getattr(r, f"metrics_{which}")
            if est is not None:
                _put_estimate(out, p + which + ".", est, faces_ids)
            if metrics is not None:
                out[p + f"metrics_{which}"] = np.array([getattr(metrics, n) for n in _METRIC_NAMES], np.float64)
    return out


def arrays_to_results(arrays) -> dict[int, FrameResult]:
    names = [str(n) for n in arrays["metric_names"]] if "metric_names" in arrays else _METRIC_NAMES
    keys = set(arrays.keys())
    indices = sorted(int(k[1:].split(".")[0]) for k in keys if k.endswith(".index"))
    results = {}
    for i in indices:
        p = f"r{i}."
        fields = {name: arrays[p + name] for name in _ARRAY_FIELDS if p + name in keys}
        for which in ("before", "after"):
            if p + which + ".joints" in keys:
                fields[which] = _get_estimate(arrays, keys, p + which + ".")
            if p + f"metrics_{which}" in keys:
                values = dict(zip(names, arrays[p + f"metrics_{which}"].tolist()))
                fields[f"metrics_{which}"] = FrameMetrics(**{n: values[n] for n in _METRIC_NAMES if n in values})
        results[i] = FrameResult(index=int(arrays[p + "index"]), **fields)
    return results


def results_to_npz_bytes(results: dict[int, FrameResult], **extra: np.ndarray) -> bytes:
    """Compressed npz of the results, plus `extra` arrays (keys without a dot)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **results_to_arrays(results), **extra)
    return buffer.getvalue()


def load_results_npz(path) -> dict[int, FrameResult]:
    with np.load(path, allow_pickle=False) as data:
        return arrays_to_results({k: data[k] for k in data.files})


def _put_estimate(out: dict, p: str, est: HandsEstimate, faces_ids: dict[bytes, int]) -> None:
    out[p + "joints"] = np.asarray(est.joints)
    if est.vertices is not None:
        out[p + "vertices"] = np.asarray(est.vertices)
    if est.faces is not None:
        faces = np.ascontiguousarray(est.faces)
        key = faces.dtype.str.encode() + str(faces.shape).encode() + faces.tobytes()
        if key not in faces_ids:
            faces_ids[key] = len(faces_ids)
            out[f"faces.{faces_ids[key]}"] = faces
        out[p + "faces_ref"] = np.array(faces_ids[key])
    for name, value in est.params.items():
        out[p + "params." + name] = np.asarray(value)


def _get_estimate(arrays, keys: set[str], p: str) -> HandsEstimate:
    faces = arrays[f"faces.{int(arrays[p + 'faces_ref'])}"] if p + "faces_ref" in keys else None
    params = {k[len(p + "params."):]: arrays[k] for k in keys if k.startswith(p + "params.")}
    return HandsEstimate(joints=arrays[p + "joints"], vertices=arrays[p + "vertices"] if p + "vertices" in keys else None,
                         faces=faces, params=params)
