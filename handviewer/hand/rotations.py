"""Batched rotation helpers (torch). Angles in radians; matrices act on column vectors."""

from __future__ import annotations

import torch


def rot_x(angle: torch.Tensor) -> torch.Tensor:
    """(...,) rad -> (..., 3, 3): rotation about x, turning +y towards +z."""
    c, s = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(angle), torch.zeros_like(angle)
    return torch.stack([one, zero, zero, zero, c, -s, zero, s, c], dim=-1).reshape(*angle.shape, 3, 3)


def rot_y(angle: torch.Tensor) -> torch.Tensor:
    """(...,) rad -> (..., 3, 3): rotation about y, turning +z towards +x (a bone along y turns about
    its own axis: the twist)."""
    c, s = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(angle), torch.zeros_like(angle)
    return torch.stack([c, zero, s, zero, one, zero, -s, zero, c], dim=-1).reshape(*angle.shape, 3, 3)


def rot_z(angle: torch.Tensor) -> torch.Tensor:
    """(...,) rad -> (..., 3, 3): rotation about z, turning +x towards +y."""
    c, s = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(angle), torch.zeros_like(angle)
    return torch.stack([c, -s, zero, s, c, zero, zero, zero, one], dim=-1).reshape(*angle.shape, 3, 3)


def flex_abd(flex: torch.Tensor, abd: torch.Tensor) -> torch.Tensor:
    """(...,) rad -> (..., 3, 3): abduction (towards +x) then flexion (towards +z) of a bone along +y.

    The bone direction becomes (sin abd cos flex, cos abd cos flex, sin flex), so both
    angles come back exactly with `direction_to_flex_abd`.
    """
    return rot_z(-abd) @ rot_x(flex)


def direction_to_flex_abd(u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(..., 3) unit directions in the parent frame -> (flex, abd), the inverse of `flex_abd` on +y."""
    flex = torch.asin(u[..., 2].clamp(-1.0, 1.0))
    abd = torch.atan2(u[..., 0], u[..., 1])
    return flex, abd


def axis_angle_to_matrix(aa: torch.Tensor) -> torch.Tensor:
    """(..., 3) axis * angle (rad) -> (..., 3, 3), Rodrigues; smooth at zero angle."""
    theta2 = (aa * aa).sum(-1, keepdim=True)
    theta = torch.sqrt(theta2 + 1e-12)
    small = theta2 < 1e-8
    # sin(t)/t and (1-cos t)/t^2 with their Taylor series near zero for stable gradients.
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(theta)) / (theta2 + 1e-30))
    x, y, z = aa.unbind(-1)
    zero = torch.zeros_like(x)
    k = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(*aa.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=aa.dtype, device=aa.device).expand_as(k)
    return eye + a[..., None] * k + b[..., None] * (k @ k)


def matrix_to_axis_angle(m: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotations -> (..., 3) axis * angle, angle in [0, pi]; via a quaternion for stability."""
    return quaternion_to_axis_angle(matrix_to_quaternion(m))


def matrix_to_quaternion(m: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 4) unit quaternion (w, x, y, z) with w >= 0 (Shepperd's method)."""
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    cands = torch.stack(
        [
            torch.stack([1 + m00 + m11 + m22, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
            torch.stack([m[..., 2, 1] - m[..., 1, 2], 1 + m00 - m11 - m22, m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
            torch.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], 1 - m00 + m11 - m22, m[..., 1, 2] + m[..., 2, 1]], -1),
            torch.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1 - m00 - m11 + m22], -1),
        ],
        dim=-2,
    )  # (..., 4, 4): row i is 4 q_i q, best conditioned where its diagonal entry is largest
    best = torch.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1).argmax(-1)
    q = torch.gather(cands, -2, best[..., None, None].expand(*best.shape, 1, 4)).squeeze(-2)
    q = q / q.norm(dim=-1, keepdim=True)
    return torch.where(q[..., :1] < 0, -q, q)


def quaternion_to_axis_angle(q: torch.Tensor) -> torch.Tensor:
    """(..., 4) unit quaternion (w, x, y, z), w >= 0 -> (..., 3) axis * angle."""
    v = q[..., 1:]
    s = v.norm(dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(s, q[..., :1])
    scale = torch.where(s > 1e-8, angle / s.clamp_min(1e-12), 2.0 / q[..., :1].clamp_min(1e-12))
    return v * scale


def kabsch(src: torch.Tensor, dst: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Best rotation R (..., 3, 3) with R @ src_i ~ dst_i; src, dst (..., K, 3), weights (..., K) >= 0."""
    h = (src * weights[..., None]).transpose(-1, -2) @ dst  # (..., 3, 3)
    u, _, vt = torch.linalg.svd(h)
    d = torch.sign(torch.linalg.det(vt.transpose(-1, -2) @ u.transpose(-1, -2)))
    d = torch.where(d == 0, torch.ones_like(d), d)
    fix = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1))
    return vt.transpose(-1, -2) @ fix @ u.transpose(-1, -2)
