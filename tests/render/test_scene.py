import numpy as np
import pytest

from handviewer.hand.skeleton import PARENTS
from handviewer.render import HandScene, layers, render_result_image
from handviewer.render.overlay2d import project, projected_joints, visible_bones
from handviewer.render.style import BACKGROUND
from handviewer.pipeline.results import HandsEstimate

BG = np.array([int(BACKGROUND[i:i + 2], 16) for i in (1, 3, 5)])


def coloured(image, hue):
    """Pixels clearly of one hue: 'orange' (R >> B) or 'blue' (B >> R), or anything not background."""
    img = image.astype(int)
    if hue == "orange":
        return (img[..., 0] - img[..., 2] > 60)
    if hue == "blue":
        return (img[..., 2] - img[..., 0] > 60)
    if hue == "red":
        return (img[..., 0] > 150) & (img[..., 1] < 80) & (img[..., 2] < 80)
    return np.abs(img - BG).sum(-1) > 30


def test_builders_handle_missing_data():
    joints = np.random.default_rng(0).normal(size=(21, 3)).astype(np.float32)
    skel = layers.skeleton(joints)
    assert skel.n_points == 21 and skel.n_lines == 20
    lines = skel.lines.reshape(-1, 3)[:, 1:]
    assert {tuple(b) for b in lines} == {(int(PARENTS[j]), j) for j in range(1, 21)}
    joints[8] = np.nan  # index tip: one bone goes
    skel = layers.skeleton(joints)
    assert skel.n_lines == 19 and np.isfinite(skel.points).all()
    assert layers.skeleton(np.full((21, 3), np.nan)) is None
    assert layers.hand_mesh(np.full((4, 3), np.nan), np.zeros((1, 3), int)) is None
    assert layers.weighted_points(np.zeros((0, 3)), np.zeros(0), (1, 2)) is None
    pts = layers.weighted_points(np.zeros((3, 3)), np.array([0.0, 0.5, 1.0]), (1.0, 3.0))
    assert np.allclose(pts["size"], [1, 2, 3])


def test_assign_updates_points_in_place_when_topology_matches(computer):
    a = computer.compute_initial(0).before
    b = computer.compute_initial(1).before
    target = layers.hand_mesh(a.vertices[0], a.faces[0])
    assert layers.assign(target, layers.hand_mesh(b.vertices[0], b.faces[0]))
    assert np.allclose(target.points, b.vertices[0])
    other = layers.weighted_points(np.zeros((5, 3)), None, (1, 2))
    assert not layers.assign(target, other) and target.n_points == 5


def test_render_shows_both_hands_and_intersections(computer):
    image = render_result_image(computer.compute_initial(0), size=(320, 240))
    assert image.shape == (240, 320, 3)
    assert coloured(image, "orange").sum() > 500
    assert coloured(image, "blue").sum() > 500
    assert coloured(image, "red").sum() > 20  # intersection splats between the spheres


def test_frame_change_updates_actors_in_place(plotter, computer):
    scene = HandScene(plotter)
    scene.show_result(computer.compute_initial(0), refined=False)
    actors, data = dict(scene.actors), {k: id(v) for k, v in scene.datasets.items()}
    before = scene.datasets["mesh_right"].points.copy()
    result = computer.compute_initial(1)
    scene.show_result(result, refined=False)
    assert scene.actors == actors and {k: id(v) for k, v in scene.datasets.items()} == data
    assert not np.allclose(before, scene.datasets["mesh_right"].points)
    assert np.allclose(scene.datasets["mesh_right"].points, result.before.vertices[0])
    assert scene.in_place_updates >= 4  # two meshes + two skeletons only moved their points


def test_refined_estimate_and_layer_toggles(plotter, computer):
    from handviewer.pipeline.settings import RefineSettings

    gen = computer.refine(0, RefineSettings(steps=2))
    result = None
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        result = stop.value
    scene = HandScene(plotter)
    scene.show_result(result, refined=False)
    before = scene.datasets["mesh_left"].points.copy()
    assert scene.is_shown("intersections")
    scene.show_result(result, refined=True)
    assert not np.allclose(before, scene.datasets["mesh_left"].points)
    assert not scene.is_shown("intersections")  # refined spheres no longer overlap
    scene.set_layer_visible("mesh", False)
    assert not scene.is_shown("mesh_right") and scene.is_shown("skeleton_right")
    scene.set_layer_visible("mesh", True)
    assert scene.is_shown("mesh_right")
    with pytest.raises(KeyError):
        scene.set_layer_visible("nope", True)


def test_missing_hand_is_hidden(plotter, computer):
    est = computer.compute_initial(0).before
    joints, verts = est.joints.copy(), est.vertices.copy()
    joints[1] = np.nan
    verts[1] = np.nan
    scene = HandScene(plotter)
    scene.show_estimate(est)
    scene.show_estimate(HandsEstimate(joints=joints, vertices=verts, faces=est.faces))
    assert scene.is_shown("mesh_right") and not scene.is_shown("mesh_left")
    assert not scene.is_shown("skeleton_left")


def test_density_cloud_layer(plotter, computer):
    est = computer.compute_initial(0).before
    scene = HandScene(plotter)
    scene.show_estimate(est)
    points, probs = computer.density_cloud(est, 0, resolution=12)
    scene.show_density(0, points, probs)
    assert not scene.is_shown("density_right")  # layer off by default
    scene.set_layer_visible("density", True)
    assert scene.is_shown("density_right") and scene.datasets["density_right"].n_points == len(points)
    scene.clear_density()
    assert not scene.is_shown("density_right")


def test_image_camera_matches_projection(computer):
    """An off-centre principal point: the right sphere lands where K projects its centre."""
    result = computer.compute_initial(4)  # spheres apart
    K = np.array([[300.0, 0, 180.0], [0, 300.0, 100.0], [0, 0, 1]])
    est = result.before
    joints, verts = est.joints.copy(), est.vertices.copy()
    joints[1], verts[1] = np.nan, np.nan
    from dataclasses import replace

    only_right = replace(result, before=HandsEstimate(joints=joints, vertices=verts, faces=est.faces),
                         intersection_points_before=None)
    image = render_result_image(only_right, size=(320, 240), K=K)
    ys, xs = np.nonzero(coloured(image, "any"))
    expected = project(est.joints[0, 0], K)
    assert abs(xs.mean() - expected[0]) < 4 and abs(ys.mean() - expected[1]) < 4


def test_camera_presets(plotter, computer):
    scene = HandScene(plotter)
    scene.show_result(computer.compute_initial(0), refined=False)
    for name in ("image", "front", "top", "side", "reset"):
        scene.camera_preset(name, image_size=(320, 240))
        plotter.render()
    scene.camera_preset("top")
    assert abs(plotter.camera.direction[1] - 1) < 1e-6
    with pytest.raises(ValueError):
        scene.camera_preset("diagonal")


def test_overlay_projection(computer):
    result = computer.compute_initial(0)
    uv = projected_joints(result.before, result.camera_K)
    assert uv.shape == (2, 21, 2)
    assert np.allclose(uv, result.keypoints_2d[..., :2], atol=1e-3)  # the double's keypoints are projections
    kp = result.keypoints_2d[0].copy()
    kp[0] = np.nan
    assert len(visible_bones(kp)) == 15  # the wrist ends 5 bones
    assert np.isnan(project(np.array([0.0, 0.0, -5.0]), result.camera_K)).all()


def test_intersection_points_are_drawn_on_top_of_the_meshes(plotter, computer):
    """Inside two opaque hands, depth-tested points would not show at all; the overlay draws them."""
    scene = HandScene(plotter)
    result = computer.compute_initial(0)
    scene.show_result(result, refined=False)
    for key in ("mesh_right", "mesh_left"):
        scene.actors[key].GetProperty().SetOpacity(1.0)
    scene.camera_preset("front")

    def red():
        plotter.render()
        return coloured(np.asarray(plotter.screenshot(return_img=True))[..., :3], "red").sum()

    red_on = red()
    scene.set_layer_visible("intersections", False)
    red_off = red()
    assert red_on > red_off + 100, (red_on, red_off)  # shaded orange has some reddish pixels too
