"""Registry of the longer-running sub-commands (training, batch processing).

Each entry adds one sub-parser; the work itself is imported only when the command runs,
so `handviewer --help` stays fast.
"""

from __future__ import annotations

REGISTRARS: list = []
