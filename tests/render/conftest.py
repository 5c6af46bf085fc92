"""Off-screen pyvista tests of handviewer.render. The fake hands come from tests/gui/hv_double.py."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gui"))

import pyvista as pv  # noqa: E402

# No global pv.OFF_SCREEN here: conftest files are imported for the whole run, and the GUI tests'
# on-screen views must stay on screen. Each plotter asks for off-screen itself.


@pytest.fixture
def plotter():
    p = pv.Plotter(off_screen=True, window_size=[320, 240])
    yield p
    p.close()


@pytest.fixture
def computer():
    from hv_double import FakeComputer

    return FakeComputer(frame_count=10, size=(320, 240))
