"""Export from the app: the dialog's choices, and the worker job that hands the session's results to
the one export of `handviewer.pipeline.export` (the same files as `handviewer process`).

Only the choice of frames happens here; the files are the core's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handviewer.gui.workers import Partial
from handviewer.pipeline.results import FrameResult


@dataclass(frozen=True)
class ExportOptions:
    frames: str  # "all" | "verified" | "refined" (Session.frames_for)
    out_dir: str
    refined: bool = True  # export the refined estimate where there is one
    meshes: bool = False  # also per-frame PLY meshes


def export_job(computer, cached: dict[int, FrameResult], frames: list[int], options: ExportOptions,
               flags: dict[int, str], settings):
    """Generator for a worker: compute the chosen frames that have no result yet (initial
    estimates, handed back as `Partial` to be cached), then write the export. Returns the folder."""
    from handviewer.pipeline.export import check_target, export_results

    out = Path(options.out_dir)
    check_target(out, overwrite=True)  # fail before computing anything
    results = {i: cached[i] for i in frames if i in cached}
    missing = [i for i in frames if i not in cached]
    for k, index in enumerate(missing):
        yield k / max(len(missing), 1) * 0.9, f"Computing frame {index} for export"
        result = computer.compute_initial(index)
        results[index] = result
        yield Partial({index: result})
    yield 0.9, "Writing files"
    context = computer.export_context()
    export_results(out, list(results.values()), context["camera"], settings, context["sources"], flags=flags,
                   from_predictions=context["from_predictions"], use_refined=options.refined, meshes=options.meshes,
                   overwrite=True, subject_shape=context.get("subject_shape"))
    return out
