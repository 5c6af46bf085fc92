"""The desktop app (PySide6 + pyvistaqt). No maths here: widgets show `handviewer.pipeline.results`
data from a `FrameComputer` and edit a `handviewer.session.Session`.

Importing this package loads Qt (PySide6.QtCore). Entry points:
    handviewer.gui.app.run(video_path, computer_factory, screenshot=None, frame=None)
    handviewer.gui.main_window.MainWindow(computer, frames, session)
    handviewer.gui.screenshot.render_window_screenshot(window, path)
    handviewer.gui.workers.GeneratorWorker / JobQueue
"""

from handviewer.gui._compat import protect_none_refcount

protect_none_refcount()  # PySide6 6.12.0 on Python < 3.12: see _compat.py
