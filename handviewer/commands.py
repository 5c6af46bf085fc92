"""Registry of the longer-running sub-commands (training, batch processing).

Each entry adds one sub-parser; the work itself is imported only when the command runs,
so `handviewer --help` stays fast.
"""

from __future__ import annotations


def _occupancy(sub) -> None:
    from handviewer.occupancy.cli import register

    register(sub)


def _uplift(sub) -> None:
    from handviewer.uplift.cli import register

    register(sub)


def _process(sub) -> None:
    from handviewer.pipeline.process import register

    register(sub)


def _synth(sub) -> None:
    from handviewer.synth.cli import register

    register(sub)


REGISTRARS: list = [_occupancy, _uplift, _process, _synth]
