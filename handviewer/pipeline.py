"""One frame, or a batch of frames, through the stages: initial 3D (uplift from 2D keypoints, or IK
of imported 3D predictions) -> intersection-loss refinement -> metrics and meshes.

Pure compute (torch + numpy), no Qt. Results are the frozen numpy dataclasses of `results`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch

from handviewer.hand import HandModel, fit_ik
from handviewer.hand.params import HandParams, default_params
from handviewer.intersect import count_intersections, occupancy_count, penetration_depths
from handviewer.pipeline_api import RefineSettings
from handviewer.refine import EnergyWeights, PairParams, refine, reprojection_px
from handviewer.results import FrameMetrics, FrameResult, HandsEstimate
from handviewer.uplift.inputs import MIN_VISIBLE, visibility

FLIP = np.array([-1.0, 1.0, 1.0])


@dataclass
class Initial:
    """Initial estimate of N frames: pair (parameters), present (N, 2) bool, joints (N, 2, 21, 3) mm (NaN missing)."""

    pair: PairParams
    present: torch.Tensor
    joints: torch.Tensor


class Pipeline:
    """Holds the models (loaded on first use) and runs the stages on batches of frames."""

    def __init__(self, device: str = "cpu", occupancy=None, uplift=None, grid_resolution: int = 50) -> None:
        self.device = torch.device(device if device != "cuda" or torch.cuda.is_available() else "cpu")
        self._occupancy, self._uplift = occupancy, uplift
        self.plain = HandModel("plain")
        self.refined = HandModel("refined")
        self.grid_resolution = grid_resolution

    # --- models -------------------------------------------------------------------------------
    @property
    def occupancy(self):
        if self._occupancy is None:
            from handviewer.occupancy import load_default

            self._occupancy = load_default(self.device)
        return self._occupancy

    @property
    def uplift(self):
        if self._uplift is None:
            from handviewer.uplift import load_default

            self._uplift = load_default(self.device)
        return self._uplift

    def warm_up(self) -> Generator[tuple[float, str], None, None]:
        yield 0.1, "loading the occupancy network"
        _ = self.occupancy
        yield 0.6, "loading the uplift network"
        _ = self.uplift
        yield 1.0, "models ready"

    # --- stages -------------------------------------------------------------------------------
    @torch.no_grad()
    def initial_from_keypoints(self, keypoints: np.ndarray, K: np.ndarray) -> Initial:
        """keypoints (N, 2, 21, 3) px + confidence, K (N, 3, 3) or (3, 3) -> uplifted hands."""
        from handviewer.uplift.predict import predict

        kp = torch.as_tensor(np.asarray(keypoints, dtype=np.float32))
        Kt = torch.as_tensor(np.broadcast_to(np.asarray(K, dtype=np.float32), (len(kp), 3, 3)).copy())
        result = predict(self.uplift, kp, Kt)
        return Initial(PairParams(result.params_right, result.params_left), result.present, result.joints)

    def initial_from_joints(self, joints: np.ndarray, keypoints: np.ndarray | None = None,
                            K: np.ndarray | None = None) -> Initial:
        """joints (N, 2, 21, 3) mm camera frame (any estimator's output, NaN missing) -> IK-fitted hands.

        With the frames' keypoints (N, 2, 21, 3) px + confidence and K (N, 3, 3) or (3, 3), a hand
        missing from the predictions but seen in the keypoints is uplifted (`_fill_from_keypoints`)."""
        j = np.asarray(joints, dtype=np.float32)
        present = torch.as_tensor(np.isfinite(j).all(-1).sum(-1) >= MIN_VISIBLE)  # fewer joints: missing
        right, _ = fit_ik(_fill_missing(j[:, 0]))
        left, _ = fit_ik(_fill_missing(j[:, 1] * FLIP.astype(np.float32)))
        pair = PairParams(right, left)
        with torch.no_grad():
            fitted = pair.joints()
        fitted = torch.where(present[:, :, None, None], fitted, torch.full_like(fitted, float("nan")))
        initial = Initial(pair, present, fitted)
        if keypoints is not None and K is not None:
            initial = self._fill_from_keypoints(initial, keypoints, K)
        return initial

    @torch.no_grad()
    def _fill_from_keypoints(self, initial: Initial, keypoints: np.ndarray, K: np.ndarray) -> Initial:
        """Hands missing from the 3D predictions but seen in the 2D keypoints, from the uplift: placed
        beside the predicted other hand by the uplift's offset between the two hands (the uplift's
        absolute depth is its weak part), or by reprojection where no other hand was predicted."""
        kp = np.asarray(keypoints, dtype=np.float32)
        missing = ~initial.present & visibility(torch.as_tensor(kp))[1]  # (N, 2)
        rows = torch.nonzero(missing.any(-1))[:, 0]
        if len(rows) == 0:
            return initial
        K_all = np.broadcast_to(np.asarray(K, dtype=np.float32), (len(kp), 3, 3))
        up = self.initial_from_keypoints(kp[rows.numpy()], K_all[rows.numpy()])
        pair, present = initial.pair.detach(), initial.present.clone()
        for h, hand in enumerate((pair.right, pair.left)):
            fill = missing[rows, h] & up.present[:, h]
            other = 1 - h
            anchored = initial.present[rows, other] & up.present[:, other]
            shift = torch.where(anchored[:, None], initial.joints[rows, other, 0] - up.joints[:, other, 0], torch.zeros(1))
            source = up.pair.right if h == 0 else up.pair.left
            for name, value in source.tensors().items():
                if name == "trans":  # a left hand's parameters are those of its mirror image
                    value = value + (shift if h == 0 else shift * torch.as_tensor(FLIP, dtype=shift.dtype))
                hand.tensors()[name][rows[fill]] = value[fill]
            present[rows[fill], h] = True
        joints = pair.joints()
        joints = torch.where(present[:, :, None, None], joints, torch.full_like(joints, float("nan")))
        return Initial(pair, present, joints)

    def refine(self, initial: Initial, keypoints: np.ndarray | None, K: np.ndarray | None,
               settings: RefineSettings, weights: EnergyWeights | None = None) -> Generator[tuple[float, str], None, PairParams]:
        """Refine the frames where both hands are present; the others keep their initial parameters."""
        both = initial.present.all(-1)
        out = initial.pair.detach()
        idx = torch.nonzero(both)[:, 0]
        if len(idx) == 0 or settings.steps == 0:
            return out
        sub = PairParams(initial.pair.right[idx], initial.pair.left[idx])
        kp = torch.as_tensor(np.asarray(keypoints, dtype=np.float32))[idx] if keypoints is not None else None
        Kt = None
        if K is not None:
            Kt = torch.as_tensor(np.broadcast_to(np.asarray(K, dtype=np.float32), (len(both), 3, 3)).copy())[idx]
        refined = yield from refine(self.occupancy, sub, kp, Kt, settings, weights)
        for src, dst in ((refined.right, out.right), (refined.left, out.left)):
            for name, value in src.tensors().items():
                dst.tensors()[name][idx] = value
        return out

    # --- results ------------------------------------------------------------------------------
    @torch.no_grad()
    def estimate(self, pair: PairParams, present: torch.Tensor, i: int) -> HandsEstimate:
        """Frame i of a batch as a HandsEstimate with `refined` meshes (NaN for a missing hand)."""
        joints = pair.joints()[i].numpy().astype(np.float32)
        vr = self.refined.vertices(pair.right[i])[0].numpy()
        vl = self.refined.vertices(pair.left[i])[0].numpy() * FLIP
        verts = np.stack([vr, vl]).astype(np.float32)
        for h in range(2):
            if not bool(present[i, h]):
                joints[h] = np.nan
                verts[h] = np.nan
        faces = np.stack([self.refined.faces, self.refined.faces_left])
        params = {f"{side}_{k}": v[i].numpy() for side, p in (("right", pair.right), ("left", pair.left)) for k, v in p.tensors().items()}
        return HandsEstimate(joints=joints, vertices=verts, faces=faces, params=params)

    @torch.no_grad()
    def metrics(self, pair: PairParams, present: torch.Tensor, i: int, keypoints: np.ndarray | None,
                K: np.ndarray | None, initial_joints: np.ndarray | None) -> tuple[FrameMetrics, np.ndarray, np.ndarray]:
        """Metrics of frame i, and the intersection grid points (P, 3) mm with their probabilities (P,)."""
        joints = pair.joints()[i : i + 1]
        reproj = np.nan
        if keypoints is not None and K is not None:
            reproj = float(reprojection_px(joints, torch.as_tensor(np.asarray(keypoints, np.float32)[None]),
                                           torch.as_tensor(np.asarray(K, np.float32)[None]))[0])
        moved = np.nan
        if initial_joints is not None:
            moved = float(np.nanmean(np.linalg.norm(joints[0].numpy() - initial_joints, axis=-1)))
        empty = (np.zeros((0, 3), np.float32), np.zeros(0, np.float32))
        if not bool(present[i].all()):
            return FrameMetrics(reprojection_px=reproj, moved_mm=moved), *empty
        vr = self.plain.vertices(pair.right[i])[0].double().numpy()
        vl = self.plain.vertices(pair.left[i])[0].double().numpy() * FLIP
        count, volume, points = count_intersections(vr, self.plain.faces, vl, self.plain.faces_left, self.grid_resolution)
        ave, mx = penetration_depths(vr, self.plain.faces, vl, self.plain.faces_left)
        jr, jl = joints[:, 0], joints[:, 1]
        occ = int(occupancy_count(self.occupancy, jr, jl, torch.as_tensor(vr[None], dtype=torch.float32),
                                  torch.as_tensor(vl[None], dtype=torch.float32))[0])
        probs = np.zeros(0, np.float32)
        if len(points):
            pts = torch.as_tensor(points[None], dtype=torch.float32)
            probs = torch.minimum(self.occupancy.probability(pts, jr), self.occupancy.probability_left(pts, jl))[0].numpy()
        m = FrameMetrics(intersection_count=count, intersection_volume_cm3=volume, occupancy_count=occ,
                         ave_p_mm=ave, max_p_mm=mx, reprojection_px=reproj, moved_mm=moved)
        return m, points.astype(np.float32), probs.astype(np.float32)

    def frame_results(self, indices: list[int], initial: Initial, refined: PairParams | None,
                      keypoints: np.ndarray | None, K: np.ndarray | None) -> Generator[tuple[float, str], None, list[FrameResult]]:
        """FrameResult of each frame of a batch (metrics before and, when refined, after)."""
        out = []
        init_joints = initial.joints.numpy()
        for i, index in enumerate(indices):
            kp = keypoints[i] if keypoints is not None else np.full((2, 21, 3), np.nan, np.float32)
            Ki = None if K is None else np.asarray(K)[i] if np.asarray(K).ndim == 3 else np.asarray(K)
            before = self.estimate(initial.pair, initial.present, i)
            m_before, p_before, q_before = self.metrics(initial.pair, initial.present, i, kp, Ki, init_joints[i])
            after = m_after = p_after = q_after = None
            if refined is not None:
                after = self.estimate(refined, initial.present, i)
                m_after, p_after, q_after = self.metrics(refined, initial.present, i, kp, Ki, init_joints[i])
            out.append(FrameResult(index=index, keypoints_2d=np.asarray(kp, np.float32), before=before, metrics_before=m_before,
                                   after=after, metrics_after=m_after, intersection_points_before=p_before,
                                   intersection_probs_before=q_before, intersection_points_after=p_after,
                                   intersection_probs_after=q_after, camera_K=None if Ki is None else np.asarray(Ki, np.float64)))
            yield (i + 1) / len(indices), f"metrics {i + 1}/{len(indices)}"
        return out


def _fill_missing(joints: np.ndarray) -> np.ndarray:
    """Frames whose hand is missing entirely get the mean hand at 500 mm, so IK stays defined."""
    out = joints.copy()
    empty = ~np.isfinite(out).all(-1).any(-1)
    if empty.any():
        from handviewer.hand.kinematics import forward_kinematics

        rest = forward_kinematics(default_params(1)).joints[0].numpy() + np.array([0.0, 0.0, 500.0], np.float32)
        out[empty] = rest
    return out


__all__ = ["Initial", "Pipeline", "HandParams"]
