"""Run every benchmark script in turn (`make bench`); each prints its own figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ["bench_hand.py"],
    ["bench_subject.py"],
    ["bench_geometry.py"],
    ["bench_intersect.py"],
    ["bench_uplift.py", "assets/uplift.pt"],
    ["bench_pipeline.py"],
    ["bench_detect.py"],
    ["bench_interhand_open.py"],
    ["bench_exact_metrics.py"],
    ["bench_busy.py"],
    ["bench_dataset.py"],
    ["bench_review.py"],
    ["bench_gui.py"],
    ["bench_first_pass.py"],
]


def main() -> int:
    failed = 0
    for script, *args in SCRIPTS:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        failed += subprocess.call([sys.executable, str(HERE / script), *args]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
