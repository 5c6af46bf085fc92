"""The rest hand: mean bone lengths, palm layout, rest frames, joint limits and tissue radii.

Right hand, in its own frame (mm): origin at the wrist, x radial (towards the thumb),
y distal (towards the fingers), z palmar (out of the palm). x, y, z is right-handed.
Palm layout and bone lengths are the means of the InterHand2.6M ground truth in
../shared/data (five hands), rounded.

Angles (radians, 31 per hand), in this order:
  0-9   palm: deviation of each metacarpal (thumb, index, middle, ring, pinky) from the
        rest palm, (flexion, abduction) each; small, lets IK follow real palms exactly.
  10-14 thumb: CMC flexion, CMC abduction, MCP flexion, MCP abduction, IP flexion.
  15-30 index, middle, ring, pinky: MCP flexion, MCP abduction, PIP flexion, DIP flexion.
Flexion turns a bone towards +z of its parent frame (palmar); abduction towards +x (radial).
"""

from __future__ import annotations

import numpy as np

from handviewer.hand.skeleton import FINGERS

NUM_ANGLES = 31
PALM_SLICE = slice(0, 10)
THUMB_SLICE = slice(10, 15)
FINGER_SLICE = slice(15, 31)

ANGLE_NAMES = (
    tuple(f"palm_{f}_{k}" for f in FINGERS for k in ("flex", "abd"))
    + ("thumb_cmc_flex", "thumb_cmc_abd", "thumb_mcp_flex", "thumb_mcp_abd", "thumb_ip_flex")
    + tuple(f"{f}_{k}" for f in FINGERS[1:] for k in ("mcp_flex", "mcp_abd", "pip_flex", "dip_flex"))
)

# Bone b ends at joint b + 1 (see skeleton.BONES). mm.
MEAN_BONE_LENGTHS = np.array(
    [38.0, 37.0, 31.0, 28.0,  # thumb: wrist-CMC, CMC-MCP, MCP-IP, IP-tip
     86.0, 41.0, 25.0, 22.0,  # index: wrist-MCP, MCP-PIP, PIP-DIP, DIP-tip
     84.0, 42.0, 28.0, 22.0,  # middle
     80.0, 39.0, 27.0, 21.0,  # ring
     77.0, 30.0, 20.0, 19.0],  # pinky
    dtype=np.float64,
)

# Rest direction of the five palm bones (wrist -> thumb CMC and wrist -> MCPs), from mean joint positions.
# The hand frame is defined by the rigid part of the palm: y points from the wrist to the middle MCP and
# the index MCP lies in the x-y plane. Index and middle metacarpals are rigid (so IK recovers the frame
# exactly from three joints); the thumb, ring and pinky metacarpals move (ring and pinky cup the palm).
_PALM_REST_POSITIONS = np.array(
    [[26.0, 23.0, 15.0], [24.5, 82.0, 0.0], [0.0, 84.5, 0.0], [-20.5, 77.0, 5.0], [-37.0, 66.0, 10.0]]
)
PALM_DIRECTIONS = _PALM_REST_POSITIONS / np.linalg.norm(_PALM_REST_POSITIONS, axis=1, keepdims=True)

# Metacarpals fan out from the wrist; the fingers run closer to parallel at rest (rad, + radial).
FINGER_SPLAY = np.deg2rad([-8.0, 0.0, 7.0, 15.0])


def _frame_from_y(y: np.ndarray, z_hint: np.ndarray) -> np.ndarray:
    """Rotation (3, 3) whose columns are x, y, z with y given and z as close as possible to z_hint."""
    y = y / np.linalg.norm(y)
    z = z_hint - (z_hint @ y) * y
    z /= np.linalg.norm(z)
    return np.stack([np.cross(y, z), y, z], axis=1)


# Rest frames of the palm bones: y along the bone, z palmar.
PALM_REST_FRAMES = np.stack([_frame_from_y(d, np.array([0.0, 0.0, 1.0])) for d in PALM_DIRECTIONS])

# Thumb metacarpal at rest points radially, distally and palmar; it flexes across the palm
# (its z points ulnar and palmar), which lets it oppose the fingers.
_THUMB_REST = _frame_from_y(np.array([0.6, 0.75, 0.28]), np.array([-0.75, 0.0, 0.66]))
THUMB_REST_OFFSET = PALM_REST_FRAMES[0].T @ _THUMB_REST  # rest rotation relative to the thumb palm bone

_LIMITS_DEG = np.array(
    [[-6, 12], [-12, 12],  # palm thumb
     [0, 0], [-3, 3],  # palm index: in the palm plane only
     [0, 0], [0, 0],  # palm middle: defines the hand frame
     [-8, 10], [-2, 2],  # palm ring
     [-10, 20], [-3, 3],  # palm pinky (cups the palm)
     [-15, 50], [-5, 40], [-15, 70], [-15, 15], [-20, 85],  # thumb
     [-25, 90], [-4, 25], [-5, 105], [-10, 80],  # index
     [-25, 90], [-8, 8], [-5, 105], [-10, 80],  # middle
     [-25, 90], [-10, 8], [-5, 105], [-10, 80],  # ring
     [-25, 90], [-25, 6], [-5, 105], [-10, 80]],  # pinky
    dtype=np.float64,
)
ANGLE_LIMITS = np.deg2rad(_LIMITS_DEG)  # (31, 2) rad, [low, high]

# Soft tissue: half widths (x) and half thicknesses (z) of each finger, mm, at the base of
# each of its three bones (thumb: metacarpal, proximal, distal), for the mean hand.
FINGER_RADII = np.array(
    [[[12.5, 11.0], [11.0, 9.8], [10.2, 8.8]],  # thumb
     [[9.0, 9.5], [8.8, 8.5], [8.3, 7.6]],  # index
     [[9.2, 9.7], [9.0, 8.7], [8.5, 7.8]],  # middle
     [[8.6, 9.0], [8.4, 8.1], [8.0, 7.3]],  # ring
     [[7.6, 8.0], [7.4, 7.1], [7.0, 6.5]]],  # pinky
)
# Palm: dorsal and palmar surface offsets from the joint plane (mm), at the wrist and at the knuckles.
PALM_DORSAL = (-13.0, -11.0)
PALM_PALMAR = (21.0, 16.0)
WRIST_HALF_WIDTH = 32.0
