"""Fixtures for handviewer.geometry tests: small trimesh primitives with known analytic answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    """Seeded, and single-threaded: on a shared 2-core machine, torch's intra-op threads stall
    (10-50x slower) whenever another process holds a core; one thread keeps the folder fast."""
    torch.manual_seed(0)
    np.random.seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def sphere():
    """Icosphere, radius 20 mm, 1280 faces (the polyhedron lies within 0.1 mm of the true sphere)."""
    return trimesh.creation.icosphere(subdivisions=3, radius=20.0)


@pytest.fixture
def box():
    """Box with half extents (15, 10, 5) mm centred at the origin, 12 faces."""
    return trimesh.creation.box(extents=(30.0, 20.0, 10.0))
