"""The rest hand: mean bone lengths, palm layout, rest frames, joint limits and tissue radii.

Right hand, in its own frame (mm): origin at the wrist, x radial (towards the thumb),
y distal (towards the fingers), z palmar (out of the palm). x, y, z is right-handed.
Palm layout and bone lengths are the means of the InterHand2.6M ground truth in
../shared/data (five hands), rounded.

Angles (radians, 36 per hand), in this order:
  0-9   palm: deviation of each metacarpal (thumb, index, middle, ring, pinky) from the
        rest palm, (flexion, abduction) each; small, lets IK follow real palms exactly.
  10-14 thumb: CMC flexion, CMC abduction, MCP flexion, MCP abduction, IP flexion.
  15-30 index, middle, ring, pinky: MCP flexion, MCP abduction, PIP flexion, DIP flexion.
  31-35 twist (axial rotation) of each finger's proximal phalanx about its own axis, at the MCP
        joint (thumb, index, ..., pinky): it turns the plane in which the finger's hinge joints
        bend. Real flexion planes are not parallel (fingers converge towards the scaphoid as
        they flex, and the thumb pronates as it opposes); without it, a real finger chain cannot be
        followed closer than ~1-2 mm. 0 in synthetic hands (`TYPICAL_LIMITS`).
Flexion turns a bone towards +z of its parent frame (palmar); abduction towards +x (radial); twist
turns the bone's frame about its y axis (x towards -z).
"""

from __future__ import annotations

import numpy as np

from handviewer.hand.skeleton import FINGERS

NUM_ANGLES = 36
PALM_SLICE = slice(0, 10)
THUMB_SLICE = slice(10, 15)
FINGER_SLICE = slice(15, 31)
TWIST_SLICE = slice(31, 36)
# The angles the uplift network predicts (all but the twists, which it leaves at 0): its output
# layer has this many angle units, so its weights stay valid.
NUM_NETWORK_ANGLES = 31

ANGLE_NAMES = (
    tuple(f"palm_{f}_{k}" for f in FINGERS for k in ("flex", "abd"))
    + ("thumb_cmc_flex", "thumb_cmc_abd", "thumb_mcp_flex", "thumb_mcp_abd", "thumb_ip_flex")
    + tuple(f"{f}_{k}" for f in FINGERS[1:] for k in ("mcp_flex", "mcp_abd", "pip_flex", "dip_flex"))
    + tuple(f"{f}_twist" for f in FINGERS)
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
# The hand frame is defined by the near-rigid part of the palm: y points from the wrist to the middle MCP
# and the index MCP lies in the x-y plane, at rest. Index and middle metacarpals barely move (so IK recovers the frame
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

# Two tables of joint ranges (degrees, [low, high], in ANGLE_NAMES order).
#
# TYPICAL: where synthetic hands are drawn from (`params.random_params`: the training data of the
# occupancy and uplift networks) and the uplift network's output range (it maps a sigmoid onto it).
# The shipped weights were trained on it: changing it means retraining both networks.
_TYPICAL_LIMITS_DEG = np.array(
    [[-6, 12], [-12, 12],  # palm thumb
     [0, 0], [-3, 3],  # palm index: in the palm plane only
     [0, 0], [0, 0],  # palm middle: defines the hand frame
     [-8, 10], [-2, 2],  # palm ring
     [-10, 20], [-3, 3],  # palm pinky (cups the palm)
     [-15, 50], [-5, 40], [-15, 70], [-15, 15], [-20, 85],  # thumb
     [-25, 90], [-4, 25], [-5, 105], [-10, 80],  # index
     [-25, 90], [-8, 8], [-5, 105], [-10, 80],  # middle
     [-25, 90], [-10, 8], [-5, 105], [-10, 80],  # ring
     [-25, 90], [-25, 6], [-5, 105], [-10, 80],  # pinky
     [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]],  # twists: none in synthetic hands
    dtype=np.float64,
)
# ANATOMICAL: what a real hand can do, and so what IK and refinement allow (they clamp to it).
# Active ranges from the clinical literature, as norms (mean + ~2 SD), not one study's mean:
# - finger MCP flexion 0-90, hyperextension to 30-45 (Hume et al. 1990, J Hand Surg 15A; AAOS);
#   radial/ulnar deviation about 20 each way, the little finger to ~30 (AAOS);
# - PIP flexion 0-100/110 with up to 10 hyperextension; DIP 0-80/90 with 10-30 hyperextension;
# - thumb CMC: flexion-extension arc ~50, abduction-adduction arc ~40-45 (Cooney et al. 1981, JBJS
#   63A), measured from its own neutral, which our rest frame only approximates: the arcs are placed
#   with 10-15 degrees of allowance at the ends real hands reach (InterHand2.6M hands sit at
#   extension -15 and adduction -5 of the typical table); thumb MCP flexion 0-60 with up to 20-30
#   hyperextension and ~15 of abduction-adduction each way; IP 0-80 with up to 30 hyperextension;
# - palm: the index and middle metacarpals barely move (2nd/3rd CMC joints, 1-3 degrees) but their
#   layout differs between people by several degrees; the 4th and 5th CMC joints flex 10-15 and
#   15-30 degrees (El-shennawy et al. 2001, J Hand Surg 26A).
# - axial rotation: passive rotation of the proximal phalanx at the MCP joints is about 10-20
#   degrees each way (largest for the index and little fingers; a 30-40 degree passive arc), and the
#   thumb pronates by 15-20 degrees at the CMC joint in opposition, more with its MCP joint (Cooney
#   et al. 1981). These angles also carry each person's
#   palm layout (a per-subject shape), so they allow the spread of adult palms about the mean palm.
# The middle metacarpal and the index metacarpal's flexion define the hand frame (the analytic IK
# solves them as 0): their few degrees here carry only the palm's per-person layout (a real index
# metacarpal head sits a few millimetres out of the plane of the wrist and the middle metacarpal).
_ANATOMICAL_LIMITS_DEG = np.array(
    [[-20, 25], [-20, 20],  # palm thumb
     [-6, 6], [-10, 10],  # palm index
     [-4, 4], [-4, 4],  # palm middle
     [-12, 18], [-8, 8],  # palm ring
     [-12, 30], [-10, 10],  # palm pinky
     [-30, 55], [-20, 45], [-30, 75], [-25, 20], [-35, 90],  # thumb
     [-40, 95], [-20, 30], [-10, 110], [-25, 90],  # index
     [-40, 95], [-20, 20], [-10, 110], [-25, 90],  # middle
     [-40, 95], [-22, 20], [-10, 110], [-25, 90],  # ring
     [-40, 95], [-35, 20], [-10, 110], [-25, 90],  # pinky
     [-25, 25], [-18, 18], [-18, 18], [-18, 18], [-18, 18]],  # twists: thumb, index, ..., pinky
    dtype=np.float64,
)
TYPICAL_LIMITS = np.deg2rad(_TYPICAL_LIMITS_DEG)  # (36, 2) rad, [low, high]
ANGLE_LIMITS = np.deg2rad(_ANATOMICAL_LIMITS_DEG)  # (36, 2) rad, [low, high]: the joint limits
assert (ANGLE_LIMITS[:, 0] <= TYPICAL_LIMITS[:, 0]).all() and (TYPICAL_LIMITS[:, 1] <= ANGLE_LIMITS[:, 1]).all()

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
