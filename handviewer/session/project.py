"""Project files beside the video, autosave and crash recovery. Plain Python.

For ``clip.mp4`` the project is ``clip.mp4.handviewer.json`` (human-readable: view state,
settings, review flags, keypoint edits) plus ``clip.mp4.handviewer.npz`` (cached results).
Both are written atomically (temporary file + ``os.replace``), results first; a random token
stored in both detects a pair that does not belong together (results are then ignored:
they can be recomputed, the user's edits in the JSON cannot).

Autosave writes the same pair with ``.handviewer.autosave.*`` names. A clean save or an
explicit discard removes them; after a crash they remain, and `recovery_file` offers them
the next time the video is opened. When the video's folder is not writable, all these files
go to ``<config_dir>/sessions/``; for a video that ships with handviewer (the sample under
`handviewer.assets.assets_dir`) they go to ``<data_dir>/sessions/`` (see `config.data_dir`),
never into the installed package.

A file that cannot be read as a session (truncated, garbage, empty, wrong format or content)
is never overwritten: `open_session` moves it aside to ``<name>.corrupt-<YYYYmmdd-HHMMSS>``,
keeps it, and says so in ``session.load_warnings`` (the window shows them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handviewer.assets import assets_dir
from handviewer.hand.subject import SubjectShape
from handviewer.pipeline.settings import RefineSettings
from handviewer.session.config import atomic_write_bytes, atomic_write_json, config_dir, data_dir
from handviewer.session.results_store import load_results_npz, results_to_npz_bytes
from handviewer.session.state import FLAGS, Session

FORMAT = "handviewer-session"
VERSION = 1
NUM_JOINTS = 21  # keypoint edits are (2, 21, 3): x px, y px, confidence
# What reading a damaged file can raise besides our own checks (np.load of a truncated npz: BadZipFile, EOFError).
_READ_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, EOFError,
                zipfile.BadZipFile)


class SessionFileError(ValueError):
    """A session file that exists but cannot be read as one (not JSON, not ours, bad content).

    path   : the file.
    reason : what is wrong, without the path.
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class ProjectPaths:
    project: Path
    results: Path
    autosave: Path
    autosave_results: Path


def project_paths(video_path: str | os.PathLike) -> ProjectPaths:
    video = Path(video_path).expanduser().resolve()
    folder = video.parent
    digest = hashlib.sha1(str(video).encode()).hexdigest()[:12]
    if _ships_with_handviewer(video):
        folder = data_dir() / "sessions" / digest
    elif not os.access(folder, os.W_OK):
        folder = config_dir() / "sessions" / digest
    base = folder / video.name
    return ProjectPaths(Path(f"{base}.handviewer.json"), Path(f"{base}.handviewer.npz"),
                        Path(f"{base}.handviewer.autosave.json"), Path(f"{base}.handviewer.autosave.npz"))


# ---------------------------------------------------------------------- save / load
def save_session(session: Session, path: str | os.PathLike | None = None) -> Path:
    """Save to `path` (default: the project file beside the video); marks the session saved and
    removes its autosave files. Returns the JSON path."""
    if path is None:
        if session.video_path is None:
            raise ValueError("the session has no video; give a path to save to")
        path = project_paths(session.video_path).project
    path = Path(path)
    _write_pair(session, path, _results_path(path))
    session.mark_saved()
    if session.video_path is not None:
        discard_recovery(session.video_path)
    return path


def load_session(path: str | os.PathLike, set_aside: bool = False) -> Session:
    """Load a project file (or the project of a video path).

    Raises SessionFileError when the JSON file cannot be read as a session (OSError when it
    cannot be read at all). Results whose file is missing, unreadable or from another save are
    skipped (they can be recomputed) and reported in ``session.load_warnings``; with
    `set_aside`, an unreadable results file is also moved aside (see `set_aside_file`).
    """
    path = Path(path)
    if not path.name.endswith(".json"):
        path = project_paths(path).project
    data = _read_session_json(path)
    try:
        session = _session_from_json(data, path)
    except _READ_ERRORS as exc:
        raise SessionFileError(path, f"damaged session content ({type(exc).__name__}: {exc})") from exc
    results_file = data.get("results_file")
    results_path = path.with_name(Path(results_file).name if isinstance(results_file, str) and results_file
                                  else _results_path(path).name)
    if results_path.exists():
        try:
            token, results = _load_results(results_path)
            if token == data.get("results_token"):
                session.results = results
            else:
                session.load_warnings.append(f"{results_path.name} belongs to another save; results ignored")
        except (OSError, *_READ_ERRORS) as exc:
            kept = f"; moved aside to {set_aside_file(results_path).name}" if set_aside else ""
            session.load_warnings.append(f"could not read {results_path.name} ({type(exc).__name__}: {exc}){kept}; "
                                         "results will be recomputed")
    elif data.get("results_token"):
        session.load_warnings.append(f"{results_path.name} is missing; results will be recomputed")
    return session


def open_session(video_path: str | os.PathLike, frame_count: int, fps: float,
                 ask_recover: Callable[[Path], bool] | None = None) -> Session:
    """The session to open a video with: its autosave if there is one and `ask_recover(autosave)`
    says so, else its saved project, else a fresh session.

    Nothing is lost or overwritten silently: a damaged autosave or project is moved aside with
    its results file (`set_aside_file`) and a fresh start is made; every such event, and an
    autosave left alone because `ask_recover` is None (headless runs: nothing may ask), is
    described in ``session.load_warnings``.
    """
    paths = project_paths(video_path)
    warnings: list[str] = []
    session = None
    autosave = recovery_file(video_path)
    if autosave is not None and ask_recover is None:
        warnings.append(f"unsaved work autosaved in {autosave} was not recovered (nothing may ask in this run); "
                        "it is kept: open the video in the app to recover it")
    elif autosave is not None and ask_recover(autosave):
        session = _load_or_set_aside(paths.autosave, paths.autosave_results, "autosave", warnings)
        if session is not None:
            session.dirty = True
    if session is None and paths.project.exists():
        session = _load_or_set_aside(paths.project, paths.results, "saved session", warnings)
    if session is None:
        session = Session(str(video_path), frame_count, fps)
    session.load_warnings = warnings + session.load_warnings
    return session


def set_aside_file(path: str | os.PathLike, stamp: str | None = None) -> Path:
    """Rename `path` to ``<name>.corrupt-<stamp>`` (default stamp: now, YYYYmmdd-HHMMSS; a number is
    added if that name is taken) and return the new path. The file is kept, never deleted."""
    path = Path(path)
    stamp = stamp or time.strftime("%Y%m%d-%H%M%S")
    target, k = path.with_name(f"{path.name}.corrupt-{stamp}"), 1
    while target.exists():
        k += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{k}")
    os.replace(path, target)
    return target


def find_project(video_path: str | os.PathLike) -> Path | None:
    path = project_paths(video_path).project
    return path if path.exists() else None


# ---------------------------------------------------------------------- autosave / recovery
class Autosaver:
    """Writes the session's autosave pair when something changed since the last autosave.
    The results file is rewritten only when the results changed."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._revision = -1
        self._results_revision = -1
        self._token: str | None = None

    def maybe_save(self) -> Path | None:
        s = self.session
        if s.video_path is None or not s.dirty or s.revision == self._revision:
            return None
        paths = project_paths(s.video_path)
        if s.results_revision != self._results_revision or not paths.autosave_results.exists():
            self._token = _write_results(s, paths.autosave_results)
            self._results_revision = s.results_revision
        _write_json(s, paths.autosave, paths.autosave_results, self._token)
        self._revision = s.revision
        return paths.autosave

    def reset(self) -> None:
        self._revision = self._results_revision = -1


def recovery_file(video_path: str | os.PathLike) -> Path | None:
    """The autosave to offer on open: it exists and is newer than the saved project (if any)."""
    paths = project_paths(video_path)
    if not paths.autosave.exists():
        return None
    if paths.project.exists() and paths.project.stat().st_mtime > paths.autosave.stat().st_mtime:
        return None
    return paths.autosave


def recover_session(video_path: str | os.PathLike) -> Session:
    """Load the autosave of a video; the session is dirty (its state is not in the project yet).
    Raises SessionFileError for a damaged autosave (`open_session` sets it aside)."""
    session = load_session(project_paths(video_path).autosave)
    session.dirty = True
    return session


def discard_recovery(video_path: str | os.PathLike) -> None:
    paths = project_paths(video_path)
    for path in (paths.autosave, paths.autosave_results):
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------------- internals
def _ships_with_handviewer(video: Path) -> bool:
    """The video lies inside the package's assets folder (e.g. the sample clip of `handviewer demo`)."""
    try:
        return video.is_relative_to(assets_dir().expanduser().resolve())
    except OSError:
        return False


def _read_session_json(path: Path) -> dict:
    """The parsed JSON of a session file; SessionFileError when it is not one (OSError passes)."""
    raw = path.read_bytes()
    if not raw.strip():
        raise SessionFileError(path, "the file is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SessionFileError(path, f"not valid JSON (truncated or damaged): {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SessionFileError(path, f"not a handviewer session file (no \"format\": \"{FORMAT}\")")
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise SessionFileError(path, f"session version {version!r} is not one this handviewer reads ({VERSION})")
    return data


def _load_or_set_aside(path: Path, results: Path, what: str, warnings: list[str]) -> Session | None:
    """load_session(path), or None after moving a damaged file (and its results) aside, with a warning.
    An unreadable file (OSError: permissions) is reported and left where it is."""
    try:
        return load_session(path, set_aside=True)
    except SessionFileError as exc:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = set_aside_file(path, stamp)
        if results.exists():
            set_aside_file(results, stamp)
        warnings.append(f"the {what} {path.name} is damaged ({exc.reason}); it was moved aside to {kept} "
                        "and kept; starting without it")
    except OSError as exc:
        warnings.append(f"could not read the {what} {path} ({exc.strerror or exc}); starting without it, "
                        "and saving will not replace it")
    return None


def _results_path(json_path: Path) -> Path:
    name = json_path.name[: -len(".json")] if json_path.name.endswith(".json") else json_path.name
    return json_path.with_name(name + ".npz")


def _write_pair(session: Session, json_path: Path, results_path: Path) -> None:
    token = _write_results(session, results_path)
    _write_json(session, json_path, results_path, token)


def _write_results(session: Session, path: Path) -> str:
    token = uuid.uuid4().hex
    atomic_write_bytes(path, results_to_npz_bytes(session.results, token=np.array(token)))
    return token


def _load_results(path: Path) -> tuple[str | None, dict]:
    with np.load(path, allow_pickle=False) as data:
        token = str(data["token"]) if "token" in data.files else None
    return token, load_results_npz(path)


def _write_json(session: Session, path: Path, results_path: Path, token: str | None) -> None:
    video = Path(session.video_path).resolve() if session.video_path else None
    data = {
        "format": FORMAT, "version": VERSION, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "video": video.name if video else None, "video_path": str(video) if video else None,
        "frame_count": session.frame_count, "fps": session.fps, "current": session.current,
        "show_refined": session.show_refined, "side_by_side": session.side_by_side, "layers": session.layers,
        "settings": dataclasses.asdict(session.settings),
        "subject_shape": session.subject_shape,
        "flags": {str(i): f for i, f in sorted(session.flags.items())},
        "keypoint_edits": {str(i): _nan_to_none(k) for i, k in sorted(session.keypoint_edits.items())},
        "results_file": results_path.name, "results_token": token,
    }
    atomic_write_json(path, data)


def _session_from_json(data: dict, path: Path) -> Session:
    video_path = data.get("video_path")
    beside = path.parent / data["video"] if data.get("video") else None
    if beside is not None and beside.exists():
        video_path = str(beside)
    names = {f.name for f in dataclasses.fields(RefineSettings)}
    settings = RefineSettings(**{k: v for k, v in data.get("settings", {}).items() if k in names})
    session = Session(video_path, data.get("frame_count", 0), data.get("fps", 30.0), settings)
    session.current = int(data.get("current", 0))
    session.show_refined = bool(data.get("show_refined", False))
    session.side_by_side = bool(data.get("side_by_side", False))
    session.layers = {str(k): bool(v) for k, v in data.get("layers", {}).items()}
    session.flags = {int(i): _flag(f) for i, f in data.get("flags", {}).items()}
    session.keypoint_edits = {int(i): _none_to_nan(k) for i, k in data.get("keypoint_edits", {}).items()}
    shape = SubjectShape.from_json(data.get("subject_shape"))  # checked: a bad one is a damaged file
    session.subject_shape = shape.to_json() if shape is not None else None
    return session


def _flag(value) -> str:
    if value not in FLAGS:
        raise ValueError(f"unknown flag {value!r} (expected one of {FLAGS})")
    return value


def _nan_to_none(array: np.ndarray) -> list:
    return [[[None if v != v else float(v) for v in joint] for joint in hand] for hand in np.asarray(array).tolist()]


def _none_to_nan(nested: list) -> np.ndarray:
    """(2, 21, 3) float32 from nested lists with None for NaN; ValueError/TypeError for anything else."""
    array = np.array([[[np.nan if v is None else v for v in joint] for joint in hand] for hand in nested], np.float32)
    if array.shape != (2, NUM_JOINTS, 3):
        raise ValueError(f"a keypoint edit must be 2 x {NUM_JOINTS} x 3 numbers, got shape {array.shape}")
    return array
