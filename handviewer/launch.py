"""Launching the desktop app (`handviewer.gui.app`) with the real compute core: the CLI's `demo` and `open`."""

from __future__ import annotations

import sys
from pathlib import Path

from handviewer.assets import asset_path

SAMPLE_VIDEO = "sample/video.mp4"


def computer_factory(keypoints: str | Path | None = None):
    """A factory the GUI calls (in a worker) for each opened video."""

    def make(frames, video_path, predictions=None):
        from handviewer.pipeline.video import VideoPipeline
        from handviewer.threads import apply_thread_choice

        apply_thread_choice()  # in the worker, before the models load: see handviewer.threads

        return VideoPipeline(frames, video_path, predictions=predictions, keypoints=keypoints)

    return make


def run_app(video: str | Path | None, keypoints=None, predictions=None, screenshot=None, frame: int = 0,
            refined: bool = False) -> int:
    if video is not None and not Path(video).exists():
        raise FileNotFoundError(f"no such video: {video}")
    from handviewer.gui.app import run

    return run(str(video) if video else None, computer_factory(keypoints), screenshot=str(screenshot) if screenshot else None,
               frame=frame, predictions=str(predictions) if predictions else None, refined=refined)


def run_demo(screenshot=None, frame: int = 0, refined: bool = False) -> int:
    video = asset_path(SAMPLE_VIDEO)
    if not video.exists():
        print(f"handviewer: the bundled sample is missing ({video})", file=sys.stderr)
        return 2
    return run_app(video, screenshot=screenshot, frame=frame, refined=refined)
