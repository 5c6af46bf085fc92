"""Hand model and IK figures (issue: foundation).

    python benchmarks/bench_hand.py [--poses 1000]

Prints: vertex/face counts, default hand volume, watertightness over random poses, the rate of
self-intersecting random poses (split into the mesh folding on itself vs two parts of the hand
touching), IK accuracy on reachable, noisy and out-of-limit targets, and IK speed.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of, machine  # noqa: E402

from handviewer.geometry import check_closed_manifold, mesh_volume, self_intersections  # noqa: E402
from handviewer.hand import HandModel, fit_ik  # noqa: E402
from handviewer.hand import template as T  # noqa: E402


def mesh_report(detail: str, poses: int) -> None:
    model = HandModel(detail)
    topo = check_closed_manifold(model.faces)
    params = model.random_params(poses, seed=2026)
    verts = model.vertices(params).double()
    vol = mesh_volume(verts, torch.as_tensor(model.faces)) / 1000.0
    rest = model.to_trimesh(model.default_params())
    print(f"[{detail}] {model.num_vertices} vertices, {len(model.faces)} faces; default hand volume {rest.volume / 1000:.0f} cm^3")
    print(f"  {poses} random poses: watertight={topo['is_watertight']} winding consistent={topo['is_winding_consistent']} "
          f"Euler={topo['euler_characteristic']}; volume min {vol.min():.0f} / median {vol.median():.0f} cm^3, all > 0: {bool((vol > 0).all())}")
    fold = contact = 0
    kinds: collections.Counter = collections.Counter()
    names = ("palm", "thumb", "index", "middle", "ring", "pinky")
    for v in verts.numpy():
        pairs = self_intersections(v, model.faces)
        if len(pairs) == 0:
            continue
        part_pairs = {tuple(sorted(p)) for p in model.parts[model.faces[pairs][:, :, 0]].tolist()}
        kinds.update(part_pairs)
        if any(a == b for a, b in part_pairs):
            fold += 1
        else:
            contact += 1
    print(f"  self-intersecting poses: {(fold + contact) / poses:.1%} "
          f"(mesh folding within one part: {fold / poses:.1%}; two parts touching only: {contact / poses:.1%})")
    print("  most frequent part pairs: " + ", ".join(f"{names[a]}-{names[b]} {n}" for (a, b), n in kinds.most_common(5)))


def ik_report(poses: int) -> None:
    model = HandModel()
    truth = model.random_params(poses, seed=7)
    clean = model.joints(truth)
    _, res = fit_ik(clean)
    print(f"[ik] reachable targets ({poses}): mean {res.mean():.5f} mm, max {res.max():.4f} mm")
    noisy = clean + 2.0 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    params, res = fit_ik(noisy)
    to_truth = (model.joints(params) - clean).norm(dim=-1)
    noise = (noisy - clean).norm(dim=-1)
    print(f"[ik] noisy targets (Gaussian 2 mm per axis, mean displacement {noise.mean():.2f} mm): residual to the noisy "
          f"target {res.mean():.2f} mm, error to the clean truth {to_truth.mean():.2f} mm")
    beyond = model.random_params(poses, seed=8)
    low, high = torch.as_tensor(T.ANGLE_LIMITS[:, 0]), torch.as_tensor(T.ANGLE_LIMITS[:, 1])
    span = (high - low).float()
    beyond.angles = beyond.angles + torch.where(torch.rand(poses, T.NUM_ANGLES) < 0.5, -1.0, 1.0) * 0.3 * span
    target = model.joints(beyond)
    params, res = fit_ik(target)
    inside = bool(((params.angles >= low - 1e-6) & (params.angles <= high + 1e-6)).all())
    print(f"[ik] out-of-limit targets (every angle pushed 30 % of its range outside): residual mean {res.mean():.2f} mm, "
          f"max {res.max():.1f} mm; fitted angles all within limits: {inside}")


def ik_speed() -> None:
    import handviewer.hand.ik as ik

    model = HandModel()
    for n in (1, 8, 16, 32, 1000):
        clean = model.joints(model.random_params(n, seed=1))
        noisy = clean + 2.0 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
        t_exact = best_of(lambda: fit_ik(clean))
        t_noisy = best_of(lambda: fit_ik(noisy))
        t_analytic = best_of(lambda: fit_ik(noisy, iterations=0))
        print(f"[ik speed] batch {n:4d}: reachable {n / t_exact:9.0f} hands/s ({t_exact * 1000:.1f} ms); noisy "
              f"{n / t_noisy:9.0f} hands/s ({t_noisy * 1000:.0f} ms, {'Levenberg-Marquardt' if n <= ik.LM_MAX_BATCH else 'Adam'}); "
              f"analytic only {n / t_analytic:9.0f} hands/s")
        # Both polishers on the same noisy targets, whatever the batch: time and mean residual.
        line = []
        saved = ik.LM_MAX_BATCH
        for name, limit, sparse in (("Levenberg-Marquardt", 10**9, True), ("LM, one probe per parameter", 10**9, False),
                                    ("Adam, 60 steps", 0, True)):
            ik.LM_MAX_BATCH, ik.LM_SPARSE_JACOBIAN = limit, sparse
            try:
                seconds = best_of(lambda: fit_ik(noisy), repeat=1 if n >= 32 else 3)
                residual = float(fit_ik(noisy)[1].mean())
            finally:
                ik.LM_MAX_BATCH, ik.LM_SPARSE_JACOBIAN = saved, True
            line.append((name, seconds, residual))
        (a, ta, ra), (c, tc, rc), (b, tb, rb) = line
        print(f"           noisy, all polishers: {a} {ta * 1000:.0f} ms (residual {ra:.3f} mm), {c} {tc * 1000:.0f} ms "
              f"(residual {rc:.3f} mm; fingers probed together {tc / ta:.1f}x faster), {b} {tb * 1000:.0f} ms "
              f"(residual {rb:.3f} mm): LM {tb / ta:.1f}x faster than Adam")


def real_hands_report() -> None:
    """IK on the real InterHand2.6M hands of ../shared/data: the anatomical model against the
    previous one (the typical ranges as its limits: rigid index/middle metacarpals, no twists)."""
    from handviewer.hand.skeleton import mirror_x
    from handviewer.io import load_interhand

    folder = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "interhand26m_mmpose_samples"
    if not (folder / "test_interhand2.6m_data.json").exists():
        print(f"[ik real] skipped: no InterHand2.6M files in {folder}")
        return
    samples = load_interhand(*[folder / f"test_interhand2.6m_{k}.json" for k in ("data", "camera", "joint_3d")])
    j = samples.joints.joints
    hands = np.stack([j[t, 0] for t in range(len(j)) if np.isfinite(j[t, 0]).all()]
                     + [mirror_x(j[t, 1]) for t in range(len(j)) if np.isfinite(j[t, 1]).all()])
    saved = T.ANGLE_LIMITS.copy()
    for name, table in (("previous model (typical ranges as limits)", T.TYPICAL_LIMITS), ("anatomical model", saved)):
        T.ANGLE_LIMITS[:] = table  # in place: the cached on-device copies are keyed by the array object
        _clear_device_constants()
        try:
            _, res = fit_ik(hands)
        finally:
            T.ANGLE_LIMITS[:] = saved
            _clear_device_constants()
        per_hand = ", ".join(f"{v:.2f}" for v in np.nanmean(res.numpy(), 1))
        print(f"[ik real] {len(hands)} InterHand2.6M hands, {name}: mean {float(res.mean()):.3f} mm, "
              f"max {float(res.max()):.2f} mm (per hand {per_hand})")


def _clear_device_constants() -> None:
    from handviewer import device_constants

    device_constants.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poses", type=int, default=1000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for detail in ("plain", "refined"):
        mesh_report(detail, args.poses)
    ik_report(args.poses)
    real_hands_report()
    ik_speed()


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
