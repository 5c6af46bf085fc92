"""GUI benchmark (run under Xvfb on a headless machine):

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_gui.py

Measures, with the TEST DOUBLE computer of tests/gui/hv_double.py (two icospheres as hands,
no models: this times the GUI, not the compute core):
  1. window construction -> first frame's image shown, and -> first frame's 3D shown;
  2. switching to a frame whose result is cached (goal < 33 ms), until the 3D view has rendered.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "gui"))  # the test double
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--switches", type=int, default=60)
    parser.add_argument("--size", default="1400x860", help="window size WxH (default: the app's)")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from hv_double import FakeComputer, FakeFrames  # TEST DOUBLE

    from handviewer.gui.main_window import MainWindow
    from handviewer.session import Session

    t_imports = time.perf_counter()
    computer, frames = FakeComputer(frame_count=args.frames), FakeFrames(args.frames)
    session = Session("/tmp/handviewer-bench.mp4", args.frames, frames.fps)
    t0 = time.perf_counter()
    window = MainWindow(computer, frames, session, autosave_ms=0)
    window.resize(*(int(v) for v in args.size.split("x")))
    window.show()
    renders = []
    interactor = window.scene_view.interactors[0]
    interactor.ren_win.AddObserver("EndEvent", lambda *_: renders.append(time.perf_counter()))
    while not window.isVisible() or window.frame_view.pixmap_item.pixmap().isNull():
        app.processEvents()
    app.processEvents()
    t_image = time.perf_counter()
    while 0 not in session.results:
        app.processEvents()
    renders.clear()
    while not renders:
        app.processEvents()
    t_3d = renders[0]

    for i in range(args.frames):  # fill the cache
        session.set_frame(i)
        while i not in session.results:
            app.processEvents()
    while window.controller.queue.is_busy():  # the first pass over the video ends (it holds the GIL at times)
        app.processEvents()
    _settle(app)

    handlers, rendered, shown = [], [], []
    for k in range(args.switches):
        index = (k * 7) % args.frames
        if index == session.current:
            index = (index + 1) % args.frames
        renders.clear()
        t = time.perf_counter()
        session.set_frame(index)
        handlers.append((time.perf_counter() - t) * 1000)  # our slots: image, overlay, 3D update, panels
        while not renders:
            app.processEvents()
        # paintGL ran inside this event-loop pass; it returns once the window is composited.
        shown.append((time.perf_counter() - t) * 1000)
        rendered.append((renders[0] - t) * 1000)
    gl = _gl_renderer(interactor)
    session.dirty = False
    window.close()

    print("handviewer GUI benchmark — TEST DOUBLE computer (tests/gui/hv_double.py), not the real models")
    print(f"  window {args.size}, {args.frames} frames of {frames.size[0]}x{frames.size[1]}; "
          f"OpenGL: {gl}")
    print(f"  imports (Qt, pyvista, handviewer.gui):          {(t_imports - t_start) * 1000:8.0f} ms")
    print(f"  window constructed -> first frame image shown:  {(t_image - t0) * 1000:8.0f} ms")
    print(f"  window constructed -> first frame 3D rendered:  {(t_3d - t0) * 1000:8.0f} ms")
    print(f"  switch to a cached frame, {len(shown)} switches (goal < 33 ms):")
    for label, times in (("handlers (our Python code)", handlers), ("until the 3D view has rendered", rendered),
                         ("until the window is composited", shown)):
        print(f"    {label:32s} median {statistics.median(times):6.1f} ms   p90 {_p90(times):6.1f} ms   "
              f"max {max(times):6.1f} ms")
    return 0


def _gl_renderer(interactor) -> str:
    info = interactor.ren_win.ReportCapabilities()
    line = next((ln for ln in info.splitlines() if "OpenGL renderer" in ln), "")
    return line.split(":", 1)[-1].strip() or "unknown"


def _settle(app, seconds: float = 0.3) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()


def _p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


if __name__ == "__main__":
    raise SystemExit(main())
