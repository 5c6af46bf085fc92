"""Helpers shared by the handviewer.io tests (imported by name: tests/io is on sys.path)."""

from __future__ import annotations

import numpy as np

CODE_BITS = 8  # generated videos encode the frame index in 8 black/white blocks of 8 px


def coded_frame(index: int, height: int = 48) -> np.ndarray:
    """(height, 64, 3) uint8 BGR frame whose 8 vertical blocks spell `index` in binary (white = 1)."""
    frame = np.zeros((height, 8 * CODE_BITS, 3), np.uint8)
    for bit in range(CODE_BITS):
        if index >> bit & 1:
            frame[:, 8 * bit:8 * bit + 8] = 255
    return frame


def decode_frame(frame: np.ndarray) -> int:
    """Inverse of `coded_frame` (robust to compression: block means are thresholded)."""
    blocks = frame[:, :8 * CODE_BITS].reshape(frame.shape[0], CODE_BITS, 8, 3).mean(axis=(0, 2, 3))
    return int(sum(1 << bit for bit in range(CODE_BITS) if blocks[bit] > 128))
