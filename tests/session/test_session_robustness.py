"""Sessions that survive bad files: corrupt project/autosave files are set aside and reported,
session files of shipped videos go to the per-user data folder, the frame is restored, and
commands do not import the session state (no import circle)."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from handviewer.session import (
    Autosaver,
    Session,
    SessionFileError,
    load_session,
    open_session,
    project_paths,
    recovery_file,
    save_session,
)


def test_commands_do_not_import_state():
    source = Path(__import__("handviewer.session.commands", fromlist=["x"]).__file__).read_text()
    imported = {n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import) for a in n.names}
    assert "handviewer.session.state" not in imported and "handviewer.session" not in imported



def saved_session(video, computer=None):
    """A saved session with a keypoint edit, a verified flag and (with `computer`) a cached result."""
    s = Session(str(video), frame_count=10)
    if computer is not None:
        s.set_result(computer.compute_initial(2))
    s.apply_keypoints(0, np.full((2, 21, 3), 0.5, np.float32), edited=True, result=None)
    s.set_flag(3, "verified")
    s.set_frame(6)
    save_session(s)
    return s


def set_aside(folder, name):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(name + ".corrupt-"))


def bad_keypoint_nesting(text):
    data = json.loads(text)
    data["keypoint_edits"] = {"0": 5}
    return json.dumps(data)


def bad_settings(text):
    data = json.loads(text)
    data["settings"]["steps"] = "many"
    return json.dumps(data)


def bad_flag(text):
    data = json.loads(text)
    data["flags"] = {"1": ["verified"]}
    return json.dumps(data)


DAMAGES = {
    "truncated": lambda text: text[: len(text) // 2],
    "garbage": lambda text: "\x00\xff garbage }{",
    "empty": lambda text: "",
    "wrong format": lambda text: json.dumps({"format": "something-else", "version": 1}),
    "a list": lambda text: "[1, 2, 3]",
    "bad keypoint_edits nesting": bad_keypoint_nesting,
    "keypoint edit of the wrong shape": lambda text: text.replace('"keypoint_edits": {', '"keypoint_edits": {"9": [[[1]]], ', 1),
    "bad flag": bad_flag,
    "bad settings": bad_settings,
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_project_raises_session_file_error(video, damage):
    saved_session(video)
    path = project_paths(video).project
    path.write_bytes(DAMAGES[damage](path.read_text()).encode("utf-8", "surrogateescape"))
    with pytest.raises(SessionFileError) as info:
        load_session(path)
    assert info.value.path == path and str(path) in str(info.value)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "bad keypoint_edits nesting"])
def test_damaged_project_is_set_aside_kept_and_reported(video, damage):
    saved_session(video)
    paths = project_paths(video)
    damaged = DAMAGES[damage](paths.project.read_text())
    paths.project.write_text(damaged, encoding="utf-8", errors="surrogateescape")
    s = open_session(video, 10, 30.0)
    assert s.flags == {} and s.keypoint_edits == {} and s.frame_count == 10  # a fresh start
    assert len(s.load_warnings) == 1 and "moved aside" in s.load_warnings[0] and paths.project.name in s.load_warnings[0]
    kept = set_aside(video.parent, paths.project.name)
    assert len(kept) == 1 and (video.parent / kept[0]).read_text(errors="surrogateescape") == damaged
    assert len(set_aside(video.parent, paths.results.name)) == 1  # its results go with it
    assert not paths.project.exists()
    save_session(s)  # the next save writes a new file; the damaged one stays
    assert (video.parent / kept[0]).exists()


def test_truncated_results_file_is_set_aside_and_edits_kept(video, computer):
    saved_session(video, computer)
    paths = project_paths(video)
    data = paths.results.read_bytes()
    paths.results.write_bytes(data[: len(data) // 2])
    assert load_session(paths.project).results == {}  # was: zipfile.BadZipFile
    assert paths.results.exists()  # load_session alone moves nothing
    s = open_session(video, 10, 30.0)
    assert s.flags == {3: "verified"} and 0 in s.keypoint_edits and s.results == {}
    assert "could not read" in s.load_warnings[0] and "moved aside" in s.load_warnings[0]
    assert len(set_aside(video.parent, paths.results.name)) == 1


def test_damaged_autosave_is_set_aside_and_the_project_opens(video):
    saved_session(video)
    s = load_session(video)
    s.set_flag(5, "rejected")
    Autosaver(s).maybe_save()
    paths = project_paths(video)
    paths.autosave.write_text(paths.autosave.read_text()[:40])
    asked = []
    t = open_session(video, 10, 30.0, ask_recover=lambda p: asked.append(p) or True)
    assert asked == [paths.autosave]
    assert t.flags == {3: "verified"} and not t.dirty  # the saved project
    assert "autosave" in t.load_warnings[0] and "moved aside" in t.load_warnings[0]
    assert recovery_file(video) is None  # not offered again
    assert len(set_aside(video.parent, paths.autosave.name)) == 1


def test_headless_open_leaves_the_autosave_and_says_so(video):
    s = Session(str(video), frame_count=10)
    s.set_flag(1, "verified")
    Autosaver(s).maybe_save()
    t = open_session(video, 10, 30.0, ask_recover=None)
    assert t.flags == {} and recovery_file(video) is not None
    assert "not recovered" in t.load_warnings[0]


def test_recovered_autosave_is_dirty_and_restores_the_frame(video):
    s = Session(str(video), frame_count=10)
    s.set_flag(1, "verified")
    s.set_frame(8)
    Autosaver(s).maybe_save()
    t = open_session(video, 10, 30.0, ask_recover=lambda p: True)
    assert t.dirty and t.flags == {1: "verified"} and t.current == 8 and t.load_warnings == []


def test_videos_shipped_with_handviewer_keep_sessions_in_the_data_folder(tmp_path, monkeypatch):
    assets = tmp_path / "assets"
    (assets / "sample").mkdir(parents=True)
    video = assets / "sample" / "clip.mp4"
    video.write_bytes(b"x")
    monkeypatch.setenv("HANDVIEWER_ASSETS", str(assets))
    monkeypatch.setenv("HANDVIEWER_DATA_DIR", str(tmp_path / "data"))
    path = save_session(Session(str(video), frame_count=3))
    assert str(path).startswith(str(tmp_path / "data" / "sessions")) and list((assets / "sample").iterdir()) == [video]
    other = tmp_path / "mine" / "clip.mp4"
    other.parent.mkdir()
    assert project_paths(other).project.parent == other.parent  # other videos: beside them, as before


def test_a_full_disk_names_the_session_file(video, monkeypatch):
    import errno
    import os

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as info:
        save_session(Session(str(video), frame_count=3))
    assert "clip.mp4.handviewer" in str(info.value) and "No space left" in str(info.value)
    assert [p.name for p in video.parent.iterdir()] == ["clip.mp4"]  # no temporary file left
