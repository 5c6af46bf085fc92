"""Locating the files that ship with handviewer (trained weights, the sample clip)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def assets_dir() -> Path:
    """`assets/` of a source checkout, or of a PyInstaller bundle; $HANDVIEWER_ASSETS overrides."""
    if os.environ.get("HANDVIEWER_ASSETS"):
        return Path(os.environ["HANDVIEWER_ASSETS"])
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "assets"
    return Path(__file__).resolve().parents[1] / "assets"


def asset_path(name: str) -> Path:
    return assets_dir() / name
