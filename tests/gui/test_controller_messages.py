"""What the app prints after warm-up (seen in `--screenshot` runs and terminals): what was read is
information, what looks wrong is a warning; the banner shows both, each with its sign."""

from types import SimpleNamespace

from hv_double import FakeComputer

READ = "InterHand2.6M annotations (x_data.json and its camera and joint_3d files): 4 of 4 images annotated"
WRONG = "the 3D predictions cover 10 of 20 frames"


def test_read_lines_are_printed_as_information_and_the_rest_as_warnings(make_window, capfd):
    computer = FakeComputer(frame_count=20)
    computer.input_warnings = [READ, WRONG]
    computer.inputs = SimpleNamespace(loaded=[READ])  # as VideoPipeline: VideoInputs.loaded
    window = make_window(computer=computer)
    err = capfd.readouterr().err
    assert f"handviewer: {READ}" in err and f"warning: {READ}" not in err
    assert f"handviewer: warning: {WRONG}" in err
    assert window.warning_banner.warnings == [READ, WRONG]
    assert window.warning_banner.label.text() == f"ℹ {READ}\n⚠ {WRONG}"
