"""The headless renderer: image, part mask and depth agree with the projected ground truth; fast."""

from __future__ import annotations

import time

import numpy as np

from handviewer.io import project
from handviewer.synth.raster import HandRenderer, Rendering, joint_visibility, render_hands


def test_rendering_matches_projected_joints(scenes):
    renderer = HandRenderer(scenes.camera)
    hits, visible_share = [], []
    for t in range(len(scenes)):
        out = renderer.render(scenes.params_right, scenes.params_left, t)
        assert isinstance(out, Rendering)
        assert out.image.shape == (480, 640, 3) and out.image.dtype == np.uint8
        assert out.part_mask.shape == (480, 640) and set(np.unique(out.part_mask)) <= set(range(13))
        masks = out.hand_masks
        assert masks[0].sum() > 500 and masks[1].sum() > 500
        assert np.isfinite(out.depth[out.hand_mask]).all() and np.isinf(out.depth[~out.hand_mask]).all()
        depth = out.depth[out.hand_mask]
        assert depth.min() > scenes.joints[t, ..., 2].min() - 40 and depth.max() < scenes.joints[t, ..., 2].max() + 40
        uv = np.round(project(scenes.joints[t], scenes.camera)).astype(int)  # (2, 21, 2)
        hits.append(out.hand_mask[uv[..., 1], uv[..., 0]])
        vis = joint_visibility(scenes.joints[t], out, scenes.camera)
        visible_share.append(vis.mean())
        # A visible joint lies on its own hand's pixels.
        for h in range(2):
            near = masks[h][uv[h, vis[h], 1], uv[h, vis[h], 0]] | masks[h][np.clip(uv[h, vis[h], 1] + 1, 0, 479), uv[h, vis[h], 0]]
            assert near.mean() > 0.8
    assert np.mean(hits) > 0.9
    assert np.mean(visible_share) > 0.5
    # Hands differ in colour: right warmer (more red relative to blue) than left.
    right = out.image[masks[0]].astype(float).mean(0)
    left = out.image[masks[1]].astype(float).mean(0)
    assert right[0] / right[2] > left[0] / left[2]


def test_missing_hand_and_supersampling(scenes):
    renderer = HandRenderer(scenes.camera, supersample=2, background_style="plain")
    verts = renderer.vertices(scenes.params_right[0], scenes.params_left[0])[0].copy()
    verts[1] = np.nan
    out = renderer.render_vertices(verts)
    assert out.part_mask.shape == (480, 640) and out.image.shape == (480, 640, 3)
    assert out.hand_masks[0].sum() > 500 and out.hand_masks[1].sum() == 0
    empty = render_hands([None, None], (renderer.model.faces, renderer.model.faces_left), renderer.model.parts,
                         scenes.camera, background_style="plain")
    assert not empty.hand_mask.any() and (empty.image == empty.image[0, 0]).all(axis=-1).all()


def test_render_speed(scenes):
    renderer = HandRenderer(scenes.camera)
    verts = renderer.vertices(scenes.params_right, scenes.params_left)
    renderer.render_vertices(verts[0])
    start = time.perf_counter()
    for frame in verts:
        renderer.render_vertices(frame)
    per_frame = (time.perf_counter() - start) / len(verts)
    assert per_frame < 0.3  # ~0.03-0.05 s on one core; 100 frames well under a minute
