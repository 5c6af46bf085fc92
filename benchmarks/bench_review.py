"""Opening a clean-dataset review list in the app: how long reading the list takes (the annotation
files streamed until every listed frame is found, data.json for the cameras and images), and how long
each listed frame then takes to show (IK of the given and of the corrected joints, metrics of both:
`ReviewComputer.compute_initial`, and the batched first pass).

    OMP_NUM_THREADS=1 python benchmarks/bench_review.py [--records 10000 --listed 100]

Input: an InterHand2.6M-format dataset made by the hand model (`dataset.synthetic`, `--records`
frames) and a review list naming `--listed` of its frames spread over the file, the last one near its
end (the worst case for the streamed reading); its "corrected" file is a copy of the input: reading and
fitting cost the same whatever the joints. (A real list comes from `clean-dataset`, whose cost is in
bench_dataset.py; the list's size is what matters here.)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402


def make_list(folder: Path, records: int, listed: int) -> Path:
    from handviewer.dataset.synthetic import write_synthetic_dataset

    data = write_synthetic_dataset(folder / "in", captures=1, frames=records, seed=3, single_every=0)
    out = folder / "out"
    out.mkdir()
    shutil.copy(data.joint_3d, out / data.joint_3d.name)
    step = max(records // listed, 1)
    frames = [records - 1 - k * step for k in range(listed)][::-1]
    entries = [{"file": data.joint_3d.name, "capture": "0", "frame": str(f), "volume_before_cm3": 0.0,
                "volume_after_cm3": 0.0, "moved_max_mm": 0.0, "reasons": ["benchmark"], "input": str(data.joint_3d),
                "output": data.joint_3d.name, "camera": str(data.camera), "data": str(data.data)} for f in frames]
    (out / "review.json").write_text(json.dumps(entries))
    return out / "review.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--listed", type=int, default=100)
    parser.add_argument("--shown", type=int, default=10, help="listed frames shown one by one (timed)")
    args = parser.parse_args()

    from handviewer.dataset.review import load_review
    from handviewer.dataset.review_compute import ReviewComputer
    from handviewer.progress import drain

    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        path = make_list(Path(tmp), args.records, args.listed)
        sizes = {p.name: p.stat().st_size / 1e6 for p in (path.parent.parent / "in").iterdir()}
        print(f"dataset: {args.records} records ({', '.join(f'{k} {v:.1f} MB' for k, v in sorted(sizes.items()))}); "
              f"list: {args.listed} frames, the last at record {args.records}")
        start = time.perf_counter()
        review = drain(load_review(path))
        read = time.perf_counter() - start
        print(f"reading the list: {read:.2f} s ({1e3 * read / args.records:.3f} ms per record of the dataset, "
              f"two joint_3d files and data.json streamed)")
        start = time.perf_counter()
        computer = ReviewComputer(review)
        drain(computer.warm_up())
        print(f"compute core ready (networks loaded): {time.perf_counter() - start:.2f} s")
        times = []
        for k in range(min(args.shown, len(review))):
            start = time.perf_counter()
            computer.compute_initial(k)
            times.append(time.perf_counter() - start)
        print(f"showing a listed frame (before and after fitted, meshes, metrics of both): median "
              f"{1e3 * statistics.median(times):.0f} ms, max {1e3 * max(times):.0f} ms over {len(times)} frames")
        rest = list(range(args.shown, len(review)))
        start = time.perf_counter()
        drain(computer.first_pass(rest))
        took = time.perf_counter() - start
        print(f"first pass (the given annotation's fit and metrics, batched): {len(rest) / took:.1f} frames/s "
              f"over {len(rest)} frames")


if __name__ == "__main__":
    main()
