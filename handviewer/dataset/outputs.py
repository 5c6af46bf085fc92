"""The corrected files and the per-frame table of a finished job, written in one streamed pass.

Each joint_3d file is read again record by record, in lockstep with the shards' results (both follow
the global frame order, `work`); every record is written back with its keys and values, except the
`world_coord` of a *corrected* frame: a frame with both hands that intersected before refinement
(`handviewer.intersect.resolved.is_intersecting`, the project's one rule). Its valid joints become
the refined ones, in the input's world frame; its invalid joints keep their values. Every other
frame is written exactly as read: no intersection ("clean"), a single hand ("single-hand"), or an
intersection that refinement did not lower ("unresolved", on the review list).

Metrics are those of the hand model fitted to the joints (IK): "before" is the fit of the given
joints, "after" the refined fit for corrected frames and the fit of the given joints otherwise.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handviewer.dataset.layout import AnnotationSet, JointFileWriter, both_hands, iter_records, record_joints
from handviewer.intersect.resolved import is_intersecting

CSV_COLUMNS = ("file", "capture", "frame", "hand_type", "status", "volume_before_cm3", "depth_before_mm",
               "volume_after_cm3", "depth_after_mm", "intersecting_before", "intersecting_after", "moved_mean_mm",
               "moved_max_mm", "fit_mm", "review")


# A review entry (review.json is a list of them): these keys, "reasons" (why it is listed), then
# REVIEW_EXTRA_KEYS (added later; readers of older lists find them in summary.json's "files"):
# input / camera / data: the annotation files read (paths), output: the corrected file's name in the
# output folder, status: "corrected" or "unresolved"; depths and the mean displacement.
REVIEW_KEYS = ("file", "capture", "frame", "volume_before_cm3", "volume_after_cm3", "moved_max_mm")
REVIEW_EXTRA_KEYS = ("input", "output", "camera", "data", "status", "depth_before_mm", "depth_after_mm",
                     "moved_mean_mm")


@dataclass
class Tally:
    """What the summary and the plots need, gathered while writing (per-frame floats only).

    per_capture : (file, capture) -> counts; arrays over the frames with both hands."""

    moved_threshold_mm: float
    per_capture: dict = field(default_factory=dict)
    volume_before: list = field(default_factory=list)
    volume_after: list = field(default_factory=list)
    moved_max: list = field(default_factory=list)
    corrected: list = field(default_factory=list)
    review: list = field(default_factory=list)

    def add(self, key: tuple[str, str], row: dict) -> None:
        c = self.per_capture.setdefault(key, {"frames": 0, "both_hands": 0, "intersecting_before": 0,
                                              "intersecting_after": 0, "corrected": 0, "unresolved": 0, "volume_before_cm3": 0.0,
                                              "volume_after_cm3": 0.0, "review": 0})
        c["frames"] += 1
        if row["status"] == "single-hand":
            return
        c["both_hands"] += 1
        c["intersecting_before"] += row["intersecting_before"]
        c["intersecting_after"] += row["intersecting_after"]
        c["corrected"] += row["status"] == "corrected"
        c["unresolved"] += row["status"] == "unresolved"
        c["volume_before_cm3"] += _finite(row["volume_before_cm3"])
        c["volume_after_cm3"] += _finite(row["volume_after_cm3"])
        c["review"] += row["review"]
        self.volume_before.append(row["volume_before_cm3"])
        self.volume_after.append(row["volume_after_cm3"])
        self.moved_max.append(row["moved_max_mm"])
        self.corrected.append(row["status"] == "corrected")
        if row["review"]:
            reasons = (["still intersecting"] if row["intersecting_after"] else []) + (
                ["kept as given: refinement did not lower the overlap"] if row["status"] == "unresolved" else []) + (
                [f"moved {row['moved_max_mm']:.1f} mm"] if row["moved_max_mm"] > self.moved_threshold_mm else [])
            # REVIEW_KEYS first (what review.json always held), then where the app finds the frame again
            self.review.append({k: row[k] for k in REVIEW_KEYS} | {"reasons": reasons}
                               | {k: row[k] for k in REVIEW_EXTRA_KEYS if k in row})


def write_set(aset: AnnotationSet, index: int, out_json: Path, results: Iterator[dict], table, tally: Tally,
              every: int = 10_000) -> Generator[int, None, None]:
    """Write the corrected copy of one annotation set's joint_3d file to `out_json`, one CSV row per
    record into `table` (a csv.writer), and tally it; yields the records written so far every
    `every` records. `results` yields the job's per-frame results in global order; this set's
    frames are taken from it."""
    with open(out_json, "w", encoding="utf-8") as f:
        writer = JointFileWriter(f)
        for ordinal, (capture, frame, record) in enumerate(iter_records(aset.joint_3d)):
            world, valid = record_joints(record, aset.joint_3d, capture, frame)
            row = {"file": aset.joint_3d.name, "capture": capture, "frame": frame,
                   "hand_type": record.get("hand_type", "") if isinstance(record, dict) else "",
                   "input": str(aset.joint_3d), "output": out_json.name, "camera": str(aset.camera or ""),
                   "data": str(aset.data or "")}
            if both_hands(valid):
                result = next(results, None)
                if result is None or int(result["file_index"]) != index or int(result["ordinal"]) != ordinal:
                    raise RuntimeError(f"{aset.joint_3d}: capture {capture}, frame {frame} has no result in the work "
                                       "folder (the file changed during the job?); run the job again")
                record = _assess(record, world, valid, result, row, tally.moved_threshold_mm)
            else:
                row.update(status="single-hand", intersecting_before=False, intersecting_after=False, review=False)
            writer.write(capture, frame, record)
            table.writerow([_cell(row.get(c, "")) for c in CSV_COLUMNS])
            tally.add((aset.joint_3d.name, capture), row)
            if (ordinal + 1) % every == 0:
                yield ordinal + 1
        writer.close()


def _assess(record: dict, world: np.ndarray, valid: np.ndarray, result: dict, row: dict, threshold: float) -> dict:
    """Decide one both-hand frame: fill `row`, return the record to write (corrected or as read)."""
    vb, db, va, da = (float(result[k]) for k in ("volume_before", "depth_before", "volume_after", "depth_after"))
    before = is_intersecting(vb, db)
    # Written only where refinement lowered the overlap: a frame it made no better keeps its values.
    corrected = before and math.isfinite(va) and va < vb
    if not corrected:
        va, da = vb, db
    written = result["refined_world"] if corrected else world
    moved = np.linalg.norm(written - world, axis=-1)[valid]  # (valid joints,) mm
    fit = np.linalg.norm(result["initial_world"] - world, axis=-1)[valid]
    after = is_intersecting(va, da)
    row.update(status="corrected" if corrected else "unresolved" if before else "clean", volume_before_cm3=vb, depth_before_mm=db,
               volume_after_cm3=va, depth_after_mm=da, intersecting_before=before, intersecting_after=after,
               moved_mean_mm=float(moved.mean()), moved_max_mm=float(moved.max()), fit_mm=float(fit.mean()))
    row["review"] = bool(after or row["moved_max_mm"] > threshold)
    if not corrected:
        return record
    coords = record["world_coord"]
    new = [[float(x) for x in written[j]] if valid[j] else coords[j] for j in range(len(coords))]
    return {**record, "world_coord": new}


def open_table(path: Path):
    """(file, csv.writer) of the per-frame CSV, header written."""
    f = open(path, "w", encoding="utf-8", newline="")
    table = csv.writer(f)
    table.writerow(CSV_COLUMNS)
    return f, table


def _cell(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"  # significant digits: a sliver of 1e-5 cm^3 stays > 0
    return value


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


__all__ = ["CSV_COLUMNS", "REVIEW_EXTRA_KEYS", "REVIEW_KEYS", "Tally", "open_table", "write_set"]
