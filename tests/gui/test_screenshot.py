"""Screenshots of the whole window, 3D view included (for `handviewer demo --screenshot`)."""

import numpy as np
from hv_helpers import wait_idle, wait_result
from PySide6.QtCore import QPoint

from handviewer.gui.screenshot import qimage_to_array, render_window_screenshot
from handviewer.render.style import BACKGROUND

BG = np.array([int(BACKGROUND[i:i + 2], 16) for i in (1, 3, 5)])


def hand_pixels(image):
    """Orange (right hand) and blue (left hand) pixels."""
    img = image.astype(int)
    orange = (img[..., 0] - img[..., 2] > 60).sum()
    blue = (img[..., 2] - img[..., 0] > 60).sum()
    return orange, blue


def view_region(window, image):
    interactor = window.scene_view.interactors[0]
    top_left = interactor.mapTo(window, QPoint(0, 0))
    w, h = interactor.width(), interactor.height()
    return image[top_left.y():top_left.y() + h, top_left.x():top_left.x() + w]


def test_window_screenshot_shows_3d_content(qtbot, make_window, tmp_path):
    window = make_window()
    wait_result(qtbot, window, 0)
    wait_idle(qtbot, window)
    path = tmp_path / "shot.png"
    image = qimage_to_array(render_window_screenshot(window, path))
    assert path.exists() and image.shape[:2] == (window.height(), window.width())
    region = view_region(window, image)
    orange, blue = hand_pixels(region)
    assert orange > 2000 and blue > 2000, (orange, blue)
    from PySide6.QtGui import QImage

    assert not QImage(str(path)).isNull()


def test_side_by_side_screenshot_has_both_views(qtbot, make_window, tmp_path):
    window = make_window()
    wait_result(qtbot, window, 0)
    window.refine_frame()
    wait_result(qtbot, window, 0, refined=True)
    window.session.set_side_by_side(True)
    wait_idle(qtbot, window)
    image = qimage_to_array(render_window_screenshot(window, tmp_path / "side.png"))
    for interactor in window.scene_view.interactors:
        top_left = interactor.mapTo(window, QPoint(0, 0))
        region = image[top_left.y():top_left.y() + interactor.height(), top_left.x():top_left.x() + interactor.width()]
        assert min(hand_pixels(region)) > 1000


def test_views_stay_on_screen_when_pyvista_is_set_off_screen(qtbot, make_window, monkeypatch, tmp_path):
    """A host script (or a test suite) that sets pyvista's global OFF_SCREEN must not turn the app's
    3D views into off-screen windows drawing into whatever GL context is current (black or garbled
    views and screenshots: the flaky screenshot tests of stop 10 came from exactly this)."""
    import pyvista as pv

    monkeypatch.setattr(pv, "OFF_SCREEN", True)
    window = make_window()
    assert all(not i.render_window.GetOffScreenRendering() for i in window.scene_view.interactors)
    wait_result(qtbot, window, 0)
    wait_idle(qtbot, window)
    orange, blue = hand_pixels(view_region(window, qimage_to_array(render_window_screenshot(window))))
    assert orange > 2000 and blue > 2000, (orange, blue)


def test_closed_views_hold_no_qt_surface(qtbot, make_window):
    """A closed window's 3D views must drop their GL surface: PySide cannot see a QSurface being
    deleted, and a stale one made a later window's Help menu come back as a QSurface (a crash at
    start-up of the next window, seen once in a full test run)."""
    window = make_window()
    wait_result(qtbot, window, 0)
    interactors = list(window.scene_view.interactors)
    assert any(getattr(i, "_surface", None) is not None for i in interactors)  # shown views have one
    window.close()
    assert all(getattr(i, "_surface", None) is None and getattr(i, "_ctx", None) is None for i in interactors)
