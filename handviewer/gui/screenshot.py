"""`render_window_screenshot`: an image of the whole window, 3D views included.

`QWidget.grab()` alone is not reliable for the VTK views (QOpenGLWidget): under Xvfb + Mesa
it sometimes shows the 3D content and sometimes an empty view (it depends on what was
composited last), and other GL stacks (EGL, Wayland, some macOS setups) give black or stale
images. So the image of each visible 3D view, rendered and read back from its render window,
is always painted over the grab at the view's place.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QWidget

from handviewer.gui.frame_view import to_qimage


def render_window_screenshot(window: QWidget, path: str | os.PathLike | None = None) -> QImage:
    """Grab `window` with its 3D views composited in; saves to `path` (format from the suffix)
    when given. The window must be shown. Returns the image."""
    QApplication.processEvents()
    image = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    painter = QPainter(image)
    try:
        for interactor in _visible_interactors(window):
            interactor.render()
            pixels = np.asarray(interactor.screenshot(return_img=True))
            top_left = interactor.mapTo(window, QPoint(0, 0))
            target = QRect(top_left, interactor.size())
            painter.drawImage(target, to_qimage(pixels))
    finally:
        painter.end()
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path)):
            raise OSError(f"could not write screenshot {path}")
    return image


def qimage_to_array(image: QImage) -> np.ndarray:
    """QImage -> (H, W, 3) uint8 RGB copy."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h)
    return data.reshape(h, image.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def _visible_interactors(window: QWidget) -> list:
    from pyvistaqt import QtInteractor

    return [w for w in window.findChildren(QtInteractor) if w.isVisible() and not getattr(w, "_closed", False)]
