"""Occupancy network of a right hand conditioned on its 21 joints (the paper's O(x, F(X_R)))."""

from __future__ import annotations

from pathlib import Path

DEFAULT_WEIGHTS = "occupancy.pt"


def default_weights_path() -> Path:
    """The shipped weights: `assets/occupancy.pt` beside the package (a source checkout or a bundle)."""
    from handviewer.assets import asset_path

    return asset_path(DEFAULT_WEIGHTS)


def load_default(device=None):
    """The shipped, trained network, in eval mode. No network access."""
    from handviewer.occupancy.train import load_weights

    path = default_weights_path()
    if not path.exists():
        raise FileNotFoundError(
            f"occupancy weights not found at {path}; they ship with handviewer in assets/, "
            "or make them with `handviewer train-occupancy --out assets/occupancy.pt`"
        )
    return load_weights(path, device)


def __getattr__(name: str):
    if name in ("OccupancyNetwork", "OccupancyConfig"):
        from handviewer.occupancy import network

        return getattr(network, name)
    raise AttributeError(name)
