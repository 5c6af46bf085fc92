"""The package as a whole: cheap import, error types."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

from handviewer.io import FileFormatError, FrameSourceError, HandIOError, MissingDependencyError


def test_import_loads_neither_opencv_trimesh_torch_nor_qt():
    code = ("import sys, handviewer.io; "
            "print(sorted(m for m in ('cv2', 'trimesh', 'torch', 'PySide6', 'mediapipe') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_errors_carry_the_path_survive_pickling_and_are_value_errors():
    err = FrameSourceError(Path("/data/clip.mp4"), "cannot open")
    assert str(err) == "/data/clip.mp4: cannot open" and err.path == Path("/data/clip.mp4")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is FrameSourceError and str(again) == str(err)
    assert issubclass(FileFormatError, HandIOError) and issubclass(HandIOError, ValueError)
    assert issubclass(MissingDependencyError, ImportError)
