"""The 3D view and the overlay use the one default camera of `handviewer.io`."""

import numpy as np
import pytest

from handviewer.io import default_camera
from handviewer.render.camera import apply_preset, default_intrinsics


@pytest.mark.parametrize("size", [(640, 480), (320, 240), (540, 720), (333, 517)])
def test_overlay_default_K_is_io_default_K(size):
    np.testing.assert_array_equal(default_intrinsics(size), default_camera(*size).K)


def _view(plotter):
    cam = plotter.camera
    return cam.view_angle, tuple(cam.GetWindowCenter()), cam.GetUseHorizontalViewAngle()


def test_image_preset_without_K_looks_through_the_default_camera(plotter):
    apply_preset(plotter, "image", image_size=(320, 240))
    implicit = _view(plotter)
    apply_preset(plotter, "front")
    apply_preset(plotter, "image", K=default_camera(320, 240).K, image_size=(320, 240))
    assert implicit == _view(plotter)
    # Principal point at the image centre (pixel-centre convention): no window shift.
    assert implicit[1] == pytest.approx((0.0, 0.0), abs=1e-12)
