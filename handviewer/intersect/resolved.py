"""When a pair of hands counts as intersecting, and so when refinement has resolved it: one rule
for the app, the exported CSVs, `process`, `clean-dataset` and the benchmarks.

Real hands in firm contact press into each other: flesh compresses, and a mesh with mean flesh
radii fitted to real joints overlaps its partner by a few millimetres where the real hands only
touch. A pair is therefore *in contact* (not intersecting) while the exact overlap of its `plain`
meshes is at most `CONTACT_VOLUME_CM3` and no vertex lies deeper than `CONTACT_DEPTH_MM` inside the
other hand. Plain Python (no torch), so the GUI and the CLI can import it cheaply.
"""

from __future__ import annotations

import math

# Overlap volume (cm^3) and penetration depth (mm) a touching pair may show and still count as
# resolved. Measured on real hands in contact (InterHand2.6M ground truth fitted by our IK,
# benchmarks/bench_contact.py): fingers interlocked, 0.106 cm^3 and 1.72 mm deep; fingertips
# touching, 0.015 cm^3 and 0.42 mm. Finger pulp compresses by 1-2 mm under light touch forces. The
# tolerances sit just above the deepest real contact: deeper or larger is an estimation error.
CONTACT_VOLUME_CM3 = 0.2
CONTACT_DEPTH_MM = 2.0


def is_intersecting(volume_cm3: float, max_depth_mm: float = 0.0, volume_tolerance_cm3: float | None = None,
                    depth_tolerance_mm: float | None = None) -> bool:
    """True when a pair overlaps by more than soft contact: volume (cm^3) above the volume tolerance
    or deepest vertex (mm) below the depth tolerance. NaN metrics (a hand missing, metrics not
    computed) count as not intersecting. Tolerances default to the module's constants."""
    vol_tol = CONTACT_VOLUME_CM3 if volume_tolerance_cm3 is None else volume_tolerance_cm3
    depth_tol = CONTACT_DEPTH_MM if depth_tolerance_mm is None else depth_tolerance_mm
    volume = float(volume_cm3)
    depth = float(max_depth_mm)
    if math.isnan(volume):
        return False
    return volume > vol_tol or (not math.isnan(depth) and depth > depth_tol and volume > 0.0)


def is_resolved(volume_before_cm3: float, depth_before_mm: float, volume_after_cm3: float,
                depth_after_mm: float) -> bool:
    """True when refinement took an intersecting pair to one that is not (see `is_intersecting`)."""
    return is_intersecting(volume_before_cm3, depth_before_mm) and not is_intersecting(volume_after_cm3,
                                                                                         depth_after_mm)
