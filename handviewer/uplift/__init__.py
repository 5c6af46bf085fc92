"""2D -> 3D uplift of both hands (an MLP over keypoints, left hands as mirrored right hands)."""

from __future__ import annotations

DEFAULT_WEIGHTS = "uplift.pt"


def load_default(device=None):
    """The shipped, trained uplift network (`assets/uplift.pt`), in eval mode. No network access."""
    from handviewer.assets import asset_path
    from handviewer.uplift.train import load_weights

    path = asset_path(DEFAULT_WEIGHTS)
    if not path.exists():
        raise FileNotFoundError(
            f"uplift weights not found at {path}; they ship with handviewer in assets/, "
            "or make them with `handviewer train-uplift --out assets/uplift.pt`"
        )
    return load_weights(path, device)
