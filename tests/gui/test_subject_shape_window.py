"""The app keeps the video's hand shape with the session: estimated by the computer on open, saved,
and held again when the session is reopened (so its results are reproduced)."""

from hv_double import FakeComputer
from hv_helpers import wait_idle

from handviewer.session import load_session, project_paths

SHAPE = {"right": {"bones_mm": [30.0] * 20, "palm_deg": {"palm_index_flex": 0.0, "palm_index_abd": 1.5,
                                                          "palm_middle_flex": 0.0, "palm_middle_abd": 0.0},
                   "frames": 24}, "left": None, "source": "uplift"}


class ShapedComputer(FakeComputer):
    """A fake compute core with a subject shape: estimated in warm_up unless one was given first."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.given, self.shape = None, None

    def use_subject_shape(self, data):
        self.given = data

    def warm_up(self):
        result = yield from super().warm_up()
        self.shape = self.given if self.given is not None else SHAPE
        return result

    def subject_shape(self):
        return self.shape


def test_the_shape_is_saved_with_the_session_and_given_back_on_reopening(qtbot, make_window, video):
    computer = ShapedComputer(frame_count=20)
    window = make_window(computer)
    wait_idle(qtbot, window)
    assert computer.given is None and window.session.subject_shape == SHAPE
    window.actions_by_name["Save session"].trigger()
    assert load_session(project_paths(video).project).subject_shape == SHAPE

    again = ShapedComputer(frame_count=20)
    window = make_window(again, session=load_session(video))
    wait_idle(qtbot, window)
    assert again.given == SHAPE and window.session.subject_shape == SHAPE
