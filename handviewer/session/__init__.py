"""The user's session for one video: state, undo/redo, project files, autosave, recent files.

Plain Python: no Qt, no maths (the GUI wraps `Session` signals in Qt signals).
"""

from handviewer.session.commands import Command, FlagChange, KeypointEdit, UndoStack
from handviewer.session.config import CONFIG_ENV, DATA_ENV, atomic_write_bytes, atomic_write_json, config_dir, data_dir
from handviewer.session.events import Signal
from handviewer.session.project import (
    Autosaver,
    ProjectPaths,
    SessionFileError,
    discard_recovery,
    find_project,
    load_session,
    open_session,
    project_paths,
    recover_session,
    recovery_file,
    save_session,
    set_aside_file,
)
from handviewer.session.recent import RecentFiles
from handviewer.session.review import CATEGORIES, ReviewState, frame_categories, review_state
from handviewer.session.state import FLAGS, FRAME_CHOICES, Session

__all__ = [
    "CATEGORIES", "ReviewState", "frame_categories", "review_state",
    "CONFIG_ENV", "DATA_ENV", "FLAGS", "FRAME_CHOICES", "Autosaver", "Command", "FlagChange", "KeypointEdit",
    "ProjectPaths", "RecentFiles", "Session", "SessionFileError", "Signal", "UndoStack", "atomic_write_bytes",
    "atomic_write_json", "config_dir", "data_dir", "discard_recovery", "find_project", "load_session",
    "open_session", "project_paths", "recover_session", "recovery_file", "save_session", "set_aside_file",
]
