"""One frame, or a batch of frames, through the stages: initial 3D (uplift from 2D keypoints, or IK
of imported 3D predictions) -> intersection-loss refinement -> metrics and meshes.

Pure compute (torch + numpy), no Qt. Results are the frozen numpy dataclasses of `results`.
The networks, IK and refinement run on the pipeline's device (CUDA where chosen); what its stages
return (`Initial`, refined `PairParams`) lives on the CPU, so callers never see device tensors.
"""

from __future__ import annotations

import copy
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch

from handviewer.devices import AUTO_CUDA_MIN_BATCH, device_or_cpu, pick_device
from handviewer.hand import HandModel, fit_ik
from handviewer.hand.kinematics import forward_kinematics
from handviewer.hand.params import HandParams, default_params
from handviewer.hand.subject import SHAPE_ANGLES, SubjectShape
from handviewer.intersect import count_intersections, occupancy_count, penetration_depths
from handviewer.pipeline.settings import RefineSettings
from handviewer.hand.pair import PairParams
from handviewer.refine import EnergyWeights, refine, reprojection_px
from handviewer.pipeline.results import FrameMetrics, FrameResult, HandsEstimate
from handviewer.device_constants import flip_x
from handviewer.hand.skeleton import hand_present, mirror_x
from handviewer.uplift.inputs import visibility

_CPU = torch.device("cpu")


@dataclass
class Initial:
    """Initial estimate of N frames: pair (parameters), present (N, 2) bool, joints (N, 2, 21, 3) mm (NaN missing)."""

    pair: PairParams
    present: torch.Tensor
    joints: torch.Tensor

    def cpu(self) -> "Initial":
        return Initial(_pair_to(self.pair, "cpu"), self.present.cpu(), self.joints.cpu())

    def rows(self, rows: list[int]) -> "Initial":
        """The frames at `rows` (positions in this batch)."""
        pick = torch.as_tensor(rows, dtype=torch.long)
        return Initial(PairParams(self.pair.right[pick], self.pair.left[pick]), self.present[pick], self.joints[pick])

    @staticmethod
    def cat(items: list["Initial"]) -> "Initial":
        """Frames of several estimates, in order, as one batch."""
        pair = PairParams(HandParams.cat([i.pair.right for i in items]), HandParams.cat([i.pair.left for i in items]))
        return Initial(pair, torch.cat([i.present for i in items]), torch.cat([i.joints for i in items]))


class Pipeline:
    """Holds the models (loaded on first use, once per device) and runs the stages on batches of frames.

    device: "cpu", "cuda" (an error where torch sees no CUDA) or "auto": CUDA where present for
    batches of at least AUTO_CUDA_MIN_BATCH frames, the CPU for smaller ones (see `device_for`).
    `use_device` changes it later. Meshes for display are posed on the CPU (one frame at a time);
    the metrics run where `device_for(1)` says; what the stages return lives on the CPU."""

    def __init__(self, device: str = "cpu", occupancy=None, uplift=None, grid_resolution: int = 50) -> None:
        self.device, self.auto = pick_device(device), device == "auto"
        # Given models (tests) serve every device: a copy is moved where one is needed.
        self._given = {"occupancy": occupancy, "uplift": uplift}
        self._models: dict[tuple[str, torch.device], object] = {}
        self.plain = HandModel("plain")
        self.refined = HandModel("refined")
        self.grid_resolution = grid_resolution

    def use_device(self, name: str) -> str | None:
        """Run on `name` ("auto", "cpu" or "cuda") from now on. Returns a warning for the user where
        CUDA was asked for but is absent (the CPU is used instead)."""
        self.device, warning = device_or_cpu(name)
        self.auto = name == "auto"
        return warning

    def device_for(self, frames: int) -> torch.device:
        """Where a batch of `frames` runs. Under "auto", small batches run on the CPU: at one frame a
        refinement is a few thousand tiny operations, and each costs more to launch on a GPU than
        to run on the CPU (benchmarks/README.md, "CUDA")."""
        return _CPU if self.auto and frames < AUTO_CUDA_MIN_BATCH else self.device

    def to_device(self, array, device: torch.device | None = None) -> torch.Tensor:
        """A float32 array or tensor as a tensor on `device` (default: the pipeline's device)."""
        device = self.device if device is None else device
        if torch.is_tensor(array):
            return array.to(device=device, dtype=torch.float32)
        return torch.as_tensor(np.array(array, dtype=np.float32), device=device)  # a copy: inputs may be read-only views

    # --- models -------------------------------------------------------------------------------
    def network(self, kind: str, device: torch.device | None = None):
        """The occupancy ("occupancy") or uplift ("uplift") network on `device` (default: the pipeline's)."""
        device = self.device if device is None else device
        key = (kind, device)
        if key not in self._models:
            given = self._given[kind]
            if given is None:
                from handviewer.occupancy import load_default as load_occupancy
                from handviewer.uplift import load_default as load_uplift

                given = (load_occupancy if kind == "occupancy" else load_uplift)(device)
            elif isinstance(given, torch.nn.Module) and _device_of(given).type != device.type:
                given = copy.deepcopy(given).to(device)
            self._models[key] = given
        return self._models[key]

    def warm_up(self) -> Generator[tuple[float, str], None, None]:
        devices = [self.device] + ([_CPU] if self.auto and self.device != _CPU else [])
        for i, device in enumerate(devices):
            yield (0.1 + i) / len(devices), f"loading the occupancy network ({device.type})"
            self.network("occupancy", device)
            yield (0.6 + i) / len(devices), f"loading the uplift network ({device.type})"
            self.network("uplift", device)
        yield 1.0, "models ready"

    # --- stages -------------------------------------------------------------------------------
    @torch.no_grad()
    def initial_from_keypoints(self, keypoints: np.ndarray, K: np.ndarray, shape: SubjectShape | None = None) -> Initial:
        """keypoints (N, 2, 21, 3) px + confidence, K (N, 3, 3) or (3, 3) -> uplifted hands. shape: the
        video's subject shape, held (`_hold_shape`) in place of each frame's predicted bones and palm."""
        from handviewer.uplift.predict import predict

        device = self.device_for(len(keypoints))
        kp = self.to_device(keypoints, device)
        Kt = self.to_device(np.broadcast_to(np.asarray(K, dtype=np.float32), (len(kp), 3, 3)), device)
        result = predict(self.network("uplift", device), kp, Kt)
        initial = Initial(PairParams(result.params_right, result.params_left), result.present, result.joints).cpu()
        return _hold_shape(initial, shape, kp.cpu(), Kt.cpu()) if shape is not None else initial

    def initial_from_joints(self, joints: np.ndarray, keypoints: np.ndarray | None = None,
                            K: np.ndarray | None = None, shape: SubjectShape | None = None) -> Initial:
        """joints (N, 2, 21, 3) mm camera frame (any estimator's output, NaN missing) -> IK-fitted hands.

        With the frames' keypoints (N, 2, 21, 3) px + confidence and K (N, 3, 3) or (3, 3), a hand
        missing from the predictions but seen in the keypoints is uplifted (`_fill_from_keypoints`).
        shape: the video's subject shape (`hand.subject`), held by the IK of each hand that has one."""
        j = np.asarray(joints, dtype=np.float32)
        present = torch.as_tensor(hand_present(j))  # (N, 2)
        device = self.device_for(len(j))
        held = (None, None) if shape is None else (shape.right, shape.left)
        right, _ = fit_ik(_fill_missing(j[:, 0]), device=device, shape=held[0])
        left, _ = fit_ik(_fill_missing(mirror_x(j[:, 1]).astype(np.float32)), device=device, shape=held[1])
        pair = _pair_to(PairParams(right, left), "cpu")
        with torch.no_grad():
            fitted = pair.joints()
        fitted = torch.where(present[:, :, None, None], fitted, torch.full_like(fitted, float("nan")))
        initial = Initial(pair, present, fitted)
        if keypoints is not None and K is not None:
            initial = self._fill_from_keypoints(initial, keypoints, K, shape)
        return initial

    @torch.no_grad()
    def _fill_from_keypoints(self, initial: Initial, keypoints: np.ndarray, K: np.ndarray,
                             shape: SubjectShape | None = None) -> Initial:
        """Hands missing from the 3D predictions but seen in the 2D keypoints, from the uplift: placed
        beside the predicted other hand by the uplift's offset between the two hands (the uplift's
        absolute depth is its weak part), or by reprojection where no other hand was predicted."""
        kp = np.asarray(keypoints, dtype=np.float32)
        missing = ~initial.present & visibility(torch.as_tensor(kp))[1]  # (N, 2)
        rows = torch.nonzero(missing.any(-1))[:, 0]
        if len(rows) == 0:
            return initial
        K_all = np.broadcast_to(np.asarray(K, dtype=np.float32), (len(kp), 3, 3))
        up = self.initial_from_keypoints(kp[rows.numpy()], K_all[rows.numpy()], shape)
        pair, present = initial.pair.detach(), initial.present.clone()
        for h, hand in enumerate((pair.right, pair.left)):
            fill = missing[rows, h] & up.present[:, h]
            other = 1 - h
            anchored = initial.present[rows, other] & up.present[:, other]
            shift = torch.where(anchored[:, None], initial.joints[rows, other, 0] - up.joints[:, other, 0], torch.zeros(1))
            source = up.pair.right if h == 0 else up.pair.left
            for name, value in source.tensors().items():
                if name == "trans":  # a left hand's parameters are those of its mirror image
                    value = value + (shift if h == 0 else shift * flip_x(shift))
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
        device = self.device_for(len(idx))
        sub = _pair_to(PairParams(initial.pair.right[idx], initial.pair.left[idx]), device)
        kp = self.to_device(np.asarray(keypoints, dtype=np.float32)[idx.numpy()], device) if keypoints is not None else None
        Kt = None
        if K is not None:
            Kt = self.to_device(np.broadcast_to(np.asarray(K, dtype=np.float32), (len(both), 3, 3))[idx.numpy()], device)
        refined = yield from refine(self.network("occupancy", device), sub, kp, Kt, settings, weights)
        refined = _pair_to(refined, "cpu")
        for src, dst in ((refined.right, out.right), (refined.left, out.left)):
            for name, value in src.tensors().items():
                dst.tensors()[name][idx] = value
        return out

    # --- results ------------------------------------------------------------------------------
    @torch.no_grad()
    def estimate(self, pair: PairParams, present: torch.Tensor, i: int, meshes: bool = True,
                 batch_joints: torch.Tensor | None = None) -> HandsEstimate:
        """Frame i of a batch as a HandsEstimate, with `refined` meshes when `meshes` (NaN for a missing
        hand, whose parameters are NaN too). batch_joints: `pair.joints()` (N, 2, 21, 3) mm, when the
        caller posed the whole batch (one FK call for all its frames instead of one each)."""
        joints = _frame_joints(pair, i, batch_joints)[0].numpy().astype(np.float32)
        keep = present[i].numpy()
        joints[~keep] = np.nan
        params = {f"{side}_{k}": np.where(keep[h], v[i].numpy(), np.nan).astype(np.float32)
                  for h, (side, p) in enumerate((("right", pair.right), ("left", pair.left))) for k, v in p.tensors().items()}
        if not meshes:
            return HandsEstimate(joints=joints, params=params)
        vr = self.refined.vertices(pair.right[i])[0].numpy()
        vl = mirror_x(self.refined.vertices(pair.left[i])[0].numpy())
        verts = np.stack([vr, vl]).astype(np.float32)
        verts[~keep] = np.nan
        faces = np.stack([self.refined.faces, self.refined.faces_left])
        return HandsEstimate(joints=joints, vertices=verts, faces=faces, params=params)

    @torch.no_grad()
    def density_cloud(self, joints: np.ndarray, hand: int, resolution: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """Occupancy of one hand (joints (21, 3) mm, camera frame; hand 0 right, 1 left) on a
        resolution^3 grid over its joints' box padded by 25 mm: the grid points with p > 0.05 (K, 3)
        mm and their p (K,); nothing for a hand with missing joints."""
        if not np.isfinite(joints).all():
            return np.zeros((0, 3), np.float32), np.zeros(0, np.float32)
        lo, hi = joints.min(0) - 25.0, joints.max(0) + 25.0
        axes = [np.linspace(lo[k], hi[k], resolution) for k in range(3)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3).astype(np.float32)
        device = self.device_for(1)
        net = self.network("occupancy", device)
        pts, j = self.to_device(grid[None], device), self.to_device(joints[None], device)
        p = (net.probability(pts, j) if hand == 0 else net.probability_left(pts, j))[0].cpu().numpy()
        keep = p > 0.05
        return grid[keep], p[keep].astype(np.float32)

    @torch.no_grad()
    def plain_meshes_and_occupancy(self, pair: PairParams, present: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Every frame's `plain` vertices (N, 2, V, 3) float64 mm (left mirrored) and `occupancy_count`
        (N,) (NaN where a hand is missing), posed and counted in one batched call each: per frame, the
        calls' fixed cost was a third of a frame's metrics."""
        vr = self.plain.vertices(pair.right)
        vl = torch.as_tensor(mirror_x(self.plain.vertices(pair.left).numpy()))
        verts = torch.stack([vr, vl], 1).double().numpy()
        counts = np.full(len(present), np.nan)
        rows = torch.nonzero(present.all(-1))[:, 0]
        if len(rows):
            device = self.device_for(len(rows))
            joints = self.to_device(PairParams(pair.right[rows], pair.left[rows]).joints(), device)
            counts[rows.numpy()] = occupancy_count(self.network("occupancy", device), joints[:, 0], joints[:, 1],
                                                   self.to_device(vr[rows], device), self.to_device(vl[rows], device)).cpu().numpy()
        return verts, counts

    @torch.no_grad()
    def metrics(self, pair: PairParams, present: torch.Tensor, i: int, keypoints: np.ndarray | None,
                K: np.ndarray | None, initial_joints: np.ndarray | None,
                intersections: bool = True, plain: tuple[np.ndarray, float] | None = None,
                batch_joints: torch.Tensor | None = None) -> tuple[FrameMetrics, np.ndarray, np.ndarray]:
        """Metrics of frame i, and the intersection grid points (P, 3) mm with their probabilities (P,).
        intersections False: only the cheap ones (reprojection, moved), no grid points. plain: the
        frame's (2, V, 3) plain vertices and occupancy count from `plain_meshes_and_occupancy`, when
        the caller has them (else computed here). batch_joints: as in `estimate`."""
        joints = _frame_joints(pair, i, batch_joints)  # (1, 2, 21, 3) mm
        reproj = np.nan
        if keypoints is not None and K is not None:
            reproj = float(reprojection_px(joints, torch.as_tensor(np.asarray(keypoints, np.float32)[None]),
                                           torch.as_tensor(np.asarray(K, np.float32)[None]))[0])
        moved = np.nan
        distances = np.linalg.norm(joints[0].numpy() - initial_joints, axis=-1) if initial_joints is not None else None
        if distances is not None and np.isfinite(distances).any():  # (no hand: NaN, without numpy's warning)
            moved = float(np.nanmean(distances))
        empty = (np.zeros((0, 3), np.float32), np.zeros(0, np.float32))
        if not (intersections and bool(present[i].all())):
            return FrameMetrics(reprojection_px=reproj, moved_mm=moved), *empty
        if plain is None:
            vr = self.plain.vertices(pair.right[i])[0].double().numpy()
            vl = mirror_x(self.plain.vertices(pair.left[i])[0].double().numpy())
            occupancy = None
        else:
            (vr, vl), occupancy = plain
        device = self.device_for(1)
        count, volume, points = count_intersections(vr, self.plain.faces, vl, self.plain.faces_left, self.grid_resolution,
                                                    device)
        ave, mx = penetration_depths(vr, self.plain.faces, vl, self.plain.faces_left, device)
        net = self.network("occupancy", device)
        jr, jl = self.to_device(joints[:, 0], device), self.to_device(joints[:, 1], device)
        if occupancy is None:
            occupancy = int(occupancy_count(net, jr, jl, self.to_device(vr[None], device), self.to_device(vl[None], device))[0])
        probs = np.zeros(0, np.float32)
        if len(points):
            # Inside both hands: the right hand's occupancy and the left's (the mirrored right hand), in
            # one network call. The points lie inside both meshes, within reach of both skeletons.
            pts, flip = self.to_device(points[None], device), flip_x(jr)
            p = net.probability(torch.cat([pts, pts * flip]), torch.cat([jr, jl * flip]), near_only=True)
            probs = torch.minimum(p[0], p[1]).cpu().numpy()
        m = FrameMetrics(intersection_count=count, intersection_volume_cm3=volume, occupancy_count=occupancy,
                         ave_p_mm=ave, max_p_mm=mx, reprojection_px=reproj, moved_mm=moved)
        return m, points.astype(np.float32), probs.astype(np.float32)


def _device_of(module: torch.nn.Module) -> torch.device:
    return next(module.parameters(), torch.empty(0)).device


def _frame(pair: PairParams, i: int) -> PairParams:
    """Frame i of a batch as a batch of one (per-frame results must not pose the whole batch)."""
    return PairParams(pair.right[i : i + 1], pair.left[i : i + 1])


def _frame_joints(pair: PairParams, i: int, batch_joints: torch.Tensor | None) -> torch.Tensor:
    """(1, 2, 21, 3) mm: frame i's joints, from the posed batch when given, else posed alone."""
    return batch_joints[i : i + 1] if batch_joints is not None else _frame(pair, i).joints()


def _hold_shape(initial: Initial, shape: SubjectShape, keypoints: torch.Tensor, K: torch.Tensor) -> Initial:
    """Uplifted hands (CPU) with the subject's bones and palm layout in place of each frame's own, placed
    again as `uplift.predict` places them: the right hand (or a hand alone) by reprojection onto its
    keypoints (a hand's size and its depth trade off in the image: the held size fixes the depth), the
    left hand by the network's offset from the right wrist. keypoints (N, 2, 21, 3), K (N, 3, 3)."""
    from handviewer.uplift.inputs import place_by_reprojection

    pair, wrists = initial.pair.detach(), initial.joints[:, :, 0].clone()  # (N, 2, 3) mm, NaN where missing
    placed = wrists.clone()
    for h, hand in enumerate((pair.right, pair.left)):
        held = shape.hand(h)
        if held is None:
            continue
        hand.bones[:] = torch.as_tensor(held.bones, dtype=hand.bones.dtype)
        hand.angles[:, list(SHAPE_ANGLES)] = torch.as_tensor(held.palm, dtype=hand.angles.dtype)
        rel = forward_kinematics(HandParams(hand.rot, torch.zeros_like(hand.trans), hand.bones, hand.angles)).joints
        rel = rel if h == 0 else rel * flip_x(rel)  # camera frame, wrist at the origin
        own = place_by_reprojection(rel, keypoints[:, h], K)
        placed[:, h] = torch.where(torch.isfinite(own).all(-1, keepdim=True), own, wrists[:, h])
    if shape.left is not None:  # the left wrist keeps the network's offset from the right one
        offset = wrists[:, 1] - wrists[:, 0]
        anchored = (initial.present[:, 0] & torch.isfinite(offset).all(-1))[:, None]
        placed[:, 1] = torch.where(anchored, placed[:, 0] + offset, placed[:, 1])
    for h, hand in enumerate((pair.right, pair.left)):
        ok = initial.present[:, h:h + 1] & torch.isfinite(placed[:, h]).all(-1, keepdim=True)
        wrist = placed[:, h] if h == 0 else placed[:, h] * flip_x(placed)
        hand.trans[:] = torch.where(ok, wrist, hand.trans)
    joints = pair.joints()
    joints = torch.where(initial.present[:, :, None, None], joints, torch.full_like(joints, float("nan")))
    return Initial(pair, initial.present, joints)


def _pair_to(pair: PairParams, device) -> PairParams:
    return PairParams(pair.right.to(device), pair.left.to(device))


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
