"""The 2D overlay's projected mesh: part labels, painter's order, outlines (no Qt)."""

import numpy as np

from handviewer.hand import HandModel
from handviewer.render.overlay2d import mask_rgba, mesh_outlines, part_mask, project
from handviewer.pipeline.results import HandsEstimate

K = np.array([[600.0, 0, 320], [0, 600.0, 240], [0, 0, 1]])


def two_hands(left_shift_mm=(60.0, 0.0, 0.0)) -> HandsEstimate:
    model = HandModel("refined")
    verts = model.vertices(model.default_params())[0].numpy().astype(np.float64)
    joints = model.joints(model.default_params())[0].numpy().astype(np.float64)
    # Palm towards the camera, 400 mm away; the left hand mirrored and shifted.
    right = verts * [1, -1, -1] + [0, 0, 400]
    left = verts * [-1, -1, -1] + [0, 0, 400] + np.asarray(left_shift_mm)
    j = np.stack([joints * [1, -1, -1] + [0, 0, 400], joints * [-1, -1, -1] + [0, 0, 400] + np.asarray(left_shift_mm)])
    faces = np.stack([model.faces, model.faces_left])
    return HandsEstimate(joints=j.astype(np.float32), vertices=np.stack([right, left]).astype(np.float32), faces=faces)


def test_mask_labels_parts_of_both_hands_and_outlines_enclose_the_palms():
    est = two_hands((150.0, 0.0, 0.0))  # side by side, apart
    labels = part_mask(est, K, (640, 480))
    present = set(np.unique(labels).tolist())
    assert present >= set(range(1, 13)) | {0}  # every part of both hands is seen (palm towards the camera)
    outlines = mesh_outlines(labels)
    for hand in range(2):
        palm = project(est.joints[hand, [0, 5, 9, 13, 17]].mean(0), K)
        assert labels[int(palm[1]), int(palm[0])] == 1 + 6 * hand  # the palm centre is labelled palm
        import cv2

        biggest = max(outlines[hand], key=len).astype(np.float32)
        assert cv2.pointPolygonTest(biggest, (float(palm[0]), float(palm[1])), False) > 0
    rgba = mask_rgba(labels)
    assert (rgba[..., 3] > 0).sum() == (labels > 0).sum() and rgba[labels == 0].max() == 0


def test_nearer_hand_covers_the_farther_one():
    est = two_hands((20.0, 0.0, -30.0))  # left hand 30 mm nearer, overlapping in the image
    labels = part_mask(est, K, (640, 480))
    right_palm = project(est.joints[0, [0, 5, 9, 13, 17]].mean(0), K)
    left_seen = (labels >= 7).sum()
    # Where both project, the nearer left hand wins: more left than right pixels, and the right
    # palm centre (inside the overlap) shows the left hand.
    assert left_seen > ((labels >= 1) & (labels <= 6)).sum()
    assert labels[int(right_palm[1]), int(right_palm[0])] >= 7


def test_no_mesh_or_camera_gives_no_mask():
    est = two_hands()
    assert part_mask(None, K, (640, 480)) is None
    assert part_mask(est, None, (640, 480)) is None
    one = HandsEstimate(joints=est.joints, vertices=est.vertices.copy(), faces=est.faces)
    one.vertices[1] = np.nan  # left hand missing
    labels = part_mask(one, K, (640, 480))
    assert labels.max() <= 6 and (labels > 0).any()
