"""Sessions that survive bad files: corrupt project/autosave files are set aside and reported,
session files of shipped videos go to the per-user data folder, the frame is restored, and
commands do not import the session state (no import circle)."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest



def test_commands_do_not_import_state():
    source = Path(__import__("handviewer.session.commands", fromlist=["x"]).__file__).read_text()
    imported = {n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import) for a in n.names}
    assert "handviewer.session.state" not in imported and "handviewer.session" not in imported
