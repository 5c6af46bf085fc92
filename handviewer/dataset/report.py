"""The summary (JSON), the review list, the plots (PNG) and the HTML report of a dataset job.

Plots are what people look at: the intersection volume before and after (frames that intersected
before), how far the corrected frames moved (with the review threshold), and per capture the
intersecting frames before and after. matplotlib draws off screen (Agg), no Qt.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from handviewer.dataset.outputs import Tally

PLOTS = {"volume.png": "Intersection volume before and after refinement",
         "moved.png": "How far the corrected frames moved",
         "captures.png": "Intersecting frames per capture"}


def summary(tally: Tally, files: list[dict]) -> dict:
    """Totals and per-capture counts. Volumes in cm^3 (sums over the frames), distances in mm."""
    captures = [{"file": f, "capture": c, **counts} for (f, c), counts in tally.per_capture.items()]
    totals = {k: sum(c[k] for c in captures) for k in ("frames", "both_hands", "intersecting_before",
                                                      "intersecting_after", "corrected", "unresolved", "review")}
    moved = np.asarray(tally.moved_max, np.float64)[np.asarray(tally.corrected, bool)] if tally.corrected else np.zeros(0)
    return {
        "totals": totals,
        "volume_before_cm3": round(sum(c["volume_before_cm3"] for c in captures), 4),
        "volume_after_cm3": round(sum(c["volume_after_cm3"] for c in captures), 4),
        "corrected_moved_max_mm": _stats(moved),
        "review_moved_mm": tally.moved_threshold_mm,
        "captures": [{**c, "volume_before_cm3": round(c["volume_before_cm3"], 4),
                      "volume_after_cm3": round(c["volume_after_cm3"], 4)} for c in captures],
        "files": files,
    }


def _stats(values: np.ndarray) -> dict:
    if not len(values):
        return {"frames": 0}
    return {"frames": int(len(values)), "mean": round(float(values.mean()), 3),
            "median": round(float(np.median(values)), 3), "p95": round(float(np.percentile(values, 95)), 3),
            "max": round(float(values.max()), 3)}


def write_plots(folder: Path, tally: Tally) -> list[str]:
    """The PNG plots into `folder`; returns their file names."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    vb, va = np.asarray(tally.volume_before, float), np.asarray(tally.volume_after, float)
    hit = np.nan_to_num(vb) > 0
    fig = Figure(figsize=(6, 3.6), dpi=100)
    ax = fig.add_subplot()
    top = max(float(np.nanmax(vb[hit])) if hit.any() else 1.0, 1e-2)
    bins = np.geomspace(1e-3, top * 1.5, 30)
    ax.hist([np.clip(vb[hit], 1e-3, None), np.clip(np.nan_to_num(va[hit]), 1e-3, None)], bins=bins,
            label=[f"before ({int(hit.sum())} frames > 0)", "after (same frames)"], color=["#d62728", "#2ca02c"])
    ax.set(xscale="log", xlabel="intersection volume (cm³; 0 to 0.001 in the first bin)",
           ylabel="frames", title=PLOTS["volume.png"])
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "volume.png")

    moved = np.asarray(tally.moved_max, float)[np.asarray(tally.corrected, bool)] if tally.corrected else np.zeros(0)
    fig = Figure(figsize=(6, 3.6), dpi=100)
    ax = fig.add_subplot()
    ax.hist(moved, bins=30, color="#1f77b4")
    ax.axvline(tally.moved_threshold_mm, color="k", linestyle="--", label=f"review above {tally.moved_threshold_mm:g} mm")
    ax.set(xlabel="largest joint displacement of a corrected frame (mm)", ylabel="frames", title=PLOTS["moved.png"])
    if len(moved) == 0:  # an empty histogram's axis would run from -0.04 to 0.04 "frames"
        ax.set_ylim(0, 1)
        ax.set_yticks([0, 1])
        ax.text(0.5, 0.5, "no frame was corrected", transform=ax.transAxes, ha="center", va="center")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "moved.png")

    items = list(tally.per_capture.items())[:60]  # a readable chart; the CSV and summary hold them all
    fig = Figure(figsize=(max(6, 0.3 * len(items) + 2), 3.6), dpi=100)
    ax = fig.add_subplot()
    x = np.arange(len(items))
    ax.bar(x - 0.2, [c["intersecting_before"] for _, c in items], 0.4, label="before", color="#d62728")
    ax.bar(x + 0.2, [c["intersecting_after"] for _, c in items], 0.4, label="after", color="#2ca02c")
    ax.set_xticks(x, [str(capture) for (_, capture), _ in items], rotation=90, fontsize=7)
    ax.set(xlabel="capture", ylabel="intersecting frames", title=PLOTS["captures.png"])
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "captures.png")
    return list(PLOTS)


def write_html(path: Path, summary_: dict, review: list[dict], plots: list[str]) -> None:
    """A one-page report: the totals, the plots and the first review entries."""
    t = summary_["totals"]
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in t.items())
    shown = review[:200]
    review_rows = "".join(
        f"<tr><td>{html.escape(r['file'])}</td><td>{html.escape(str(r['capture']))}</td><td>{html.escape(str(r['frame']))}</td>"
        f"<td>{r['volume_before_cm3']:.3f}</td><td>{r['volume_after_cm3']:.3f}</td><td>{r['moved_max_mm']:.1f}</td>"
        f"<td>{html.escape(', '.join(r['reasons']))}</td></tr>" for r in shown)
    images = "".join(f"<h3>{html.escape(PLOTS.get(p, p))}</h3><img src='{p}' alt='{p}'>" for p in plots)
    text = (f"<!doctype html><meta charset='utf-8'><title>handviewer clean-dataset</title>"
            f"<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:right}}</style>"
            f"<h1>handviewer clean-dataset</h1><p>Volumes: before {summary_['volume_before_cm3']} cm³, after "
            f"{summary_['volume_after_cm3']} cm³ (all frames, fitted meshes).</p><table>{rows}</table>{images}"
            f"<h2>Review ({len(review)} frames{', first 200' if len(review) > 200 else ''}; all in review.json)</h2>"
            f"<table><tr><th>file</th><th>capture</th><th>frame</th><th>cm³ before</th><th>cm³ after</th>"
            f"<th>moved mm</th><th>why</th></tr>{review_rows}</table>")
    path.write_text(text, encoding="utf-8")


def write_json(path: Path, value) -> None:
    """JSON with NaN written as null (strict JSON readers reject NaN)."""
    path.write_text(json.dumps(_clean(value), indent=2, allow_nan=False), encoding="utf-8")


def _clean(value):
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


__all__ = ["PLOTS", "summary", "write_html", "write_json", "write_plots"]
