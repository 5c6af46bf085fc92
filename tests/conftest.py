"""Fixtures of every test: no test reads or writes the user's own handviewer settings."""

import pytest


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    """A fresh, empty handviewer config directory (recent files, sessions, settings) per test, and a
    fresh data directory (session files of the bundled sample)."""
    d = tmp_path / "config"
    monkeypatch.setenv("HANDVIEWER_CONFIG_DIR", str(d))
    monkeypatch.setenv("HANDVIEWER_DATA_DIR", str(tmp_path / "data"))
    return d
