"""Shared, session-scoped synthetic data for the handviewer.synth tests (built once: the ground-truth
check costs about a second per pair on a slow CPU)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def scenes():
    """Four verified independent scenes (seed 5)."""
    from handviewer.synth.scenes import random_scenes

    return random_scenes(4, seed=5, verify=True)


@pytest.fixture(scope="session")
def sequence():
    """A 40-frame smooth sequence, not verified (seed 1)."""
    from handviewer.synth.scenes import random_sequence

    return random_sequence(40, seed=1)
