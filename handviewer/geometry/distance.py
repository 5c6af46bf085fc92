"""Exact point-to-mesh distances: closest points, unsigned and signed distances.

Two passes. (1) Without autograd, for every point-face pair the squared distance is evaluated from
per-face constants and a few matrix products (chunked, O(points x faces)) to find each point's
nearest face. (2) The exact closest point on that face is computed once per point with Ericson's
closest-point-on-triangle ("Real-Time Collision Detection", 5.1.5); this pass is differentiable with
respect to points and vertices, so distances can serve as penetration losses.
"""

from __future__ import annotations

import torch

from ._common import DEFAULT_CHUNK, as_batched, chunk_sizes
from .winding import winding_numbers

__all__ = ["closest_point_on_triangle", "closest_point_on_mesh", "unsigned_distance", "signed_distance"]


def _dot(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x * y).sum(-1)


def _safe_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """num / den with 0 where den == 0 (degenerate triangles); NaN-free gradients."""
    zero = den == 0
    return torch.where(zero, torch.zeros_like(num), num / torch.where(zero, torch.ones_like(den), den))


def closest_point_on_triangle(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Closest point to p on triangle abc (Ericson's Voronoi-region method), vectorised.

    p, a, b, c : (..., 3) mm, broadcastable. Returns (..., 3) mm. Differentiable; degenerate
    (zero-area) triangles are handled as their segments or points.
    """
    ab, ac, ap, bp, cp = b - a, c - a, p - a, p - b, p - c
    d1, d2 = _dot(ab, ap), _dot(ac, ap)  # (...)
    d3, d4 = _dot(ab, bp), _dot(ac, bp)
    d5, d6 = _dot(ab, cp), _dot(ac, cp)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    # Candidates per Voronoi region (..., 3) mm, then chosen in Ericson's order of tests.
    v_ab = _safe_div(d1, d1 - d3)[..., None]
    w_ac = _safe_div(d2, d2 - d6)[..., None]
    w_bc = _safe_div(d4 - d3, (d4 - d3) + (d5 - d6))[..., None]
    den = va + vb + vc
    inner = a + ab * _safe_div(vb, den)[..., None] + ac * _safe_div(vc, den)[..., None]
    regions = [  # highest priority last
        ((va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0), b + (c - b) * w_bc),
        ((vb <= 0) & (d2 >= 0) & (d6 <= 0), a + ac * w_ac),
        ((d6 >= 0) & (d5 <= d6), c.expand_as(inner)),
        ((vc <= 0) & (d1 >= 0) & (d3 <= 0), a + ab * v_ab),
        ((d3 >= 0) & (d4 <= d3), b.expand_as(inner)),
        ((d1 <= 0) & (d2 <= 0), a.expand_as(inner)),
    ]
    out = inner
    for mask, point in regions:
        out = torch.where(mask[..., None], point, out)
    # Zero-area triangles (Ericson's tests assume distinct corners): nearest of the three segments.
    n = torch.linalg.cross(ab, ac)
    degenerate = _dot(n, n) <= torch.finfo(n.dtype).eps * _dot(ab, ab) * _dot(ac, ac)
    if degenerate.any():
        segs = torch.stack([_closest_on_segment(p, a, b), _closest_on_segment(p, b, c), _closest_on_segment(p, c, a)])
        best = (segs - p).square().sum(-1).argmin(dim=0)  # (...)
        seg = torch.gather(segs, 0, best[None, ..., None].expand(1, *best.shape, 3))[0]
        out = torch.where(degenerate[..., None], seg, out)
    return out


def _closest_on_segment(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Closest point to p on segment ab, (..., 3) mm; a point if a == b."""
    ab = b - a
    t = _safe_div(_dot(p - a, ab), _dot(ab, ab)).clamp(0.0, 1.0)
    return a + ab * t[..., None]


def _face_terms(vertices: torch.Tensor, faces: torch.Tensor) -> dict:
    """Per-face constants (B, F, 1) / (B, F, 3) of the squared-distance table, about the centroid."""
    center = vertices.mean(dim=1, keepdim=True)  # (B, 1, 3) mm
    v = vertices - center
    a, b, c = v[:, faces[:, 0]], v[:, faces[:, 1]], v[:, faces[:, 2]]  # (B, F, 3) mm
    ab, ac = b - a, c - a
    ab2, ac2, abac = (_dot(x, y)[..., None] for x, y in ((ab, ab), (ac, ac), (ab, ac)))  # (B, F, 1) mm^2
    bc2 = ab2 + ac2 - 2 * abac
    n = torch.linalg.cross(ab, ac)
    n2 = ab2 * ac2 - abac**2  # |n|^2, (B, F, 1) mm^4
    tiny = torch.finfo(v.dtype).tiny
    degenerate = n2 <= torch.finfo(v.dtype).eps * ab2 * ac2
    inv = torch.where(degenerate, 0.0, 1.0 / n2.clamp(min=tiny))
    nh = n * torch.where(degenerate, 0.0, n2.clamp(min=tiny).rsqrt())  # unit normal, 0 if degenerate
    return {
        "center": center,
        "vT": v.transpose(1, 2).contiguous(),  # (B, 3, V) mm
        "ab": ab, "ac": ac, "nh": nh,
        "ab_a": -_dot(ab, a)[..., None], "ac_a": -_dot(ac, a)[..., None], "nh_a": -_dot(nh, a)[..., None],
        # Barycentrics of the projection: v = k1 d1 + k2 d2, w = k2 d1 + k3 d2, u = cu - v - w;
        # cu = -1 marks degenerate faces as never containing the projection.
        "k1": ac2 * inv, "k2": -abac * inv, "k3": ab2 * inv, "cu": torch.where(degenerate, -1.0, 1.0).to(v.dtype),
        "ab2": ab2, "ac2": ac2, "bc2": bc2,
        "iab2": 1.0 / ab2.clamp(min=tiny), "iac2": 1.0 / ac2.clamp(min=tiny), "ibc2": 1.0 / bc2.clamp(min=tiny),
        "kbc": ab2 - abac,  # (p - b).(c - b) = d2 - d1 + kbc
    }


def _edge_sq(base: torch.Tensor, d: torch.Tensor, length2, inv_length2, t, s) -> torch.Tensor:
    """Squared distance to a segment: base = |p - start|^2, d = (p - start).edge; t, s scratch."""
    torch.mul(d, inv_length2, out=t).clamp_(0.0, 1.0)
    torch.mul(t, length2, out=s).add_(d, alpha=-2.0)  # t |e|^2 - 2 d
    return s.mul_(t).add_(base)  # |p - start|^2 - 2 t d + t^2 |e|^2


def _nearest_face(t: dict, q: torch.Tensor, faces: torch.Tensor, b0: int, work: torch.Tensor) -> torch.Tensor:
    """Index (Bc, Pc) of the nearest face for centred points q (Bc, Pc, 3) of batch b0 .. b0+Bc."""
    bc, pc, _ = q.shape
    sl = slice(b0, b0 + bc)
    g = {k: x[sl] for k, x in t.items() if k != "center"}
    vt = g["vT"]
    nv, nf = vt.shape[-1], faces.shape[0]
    stride, size = work.numel() // 10, bc * nf * pc
    pa2, pb2, d1, d2, dn, x, y, e1, e2, tmp = (work[k * stride : k * stride + size].view(bc, nf, pc) for k in range(10))
    qt = q.transpose(1, 2).contiguous()  # (Bc, 3, Pc) mm
    sq, d = (work[k * stride : k * stride + bc * nv * pc].view(bc, nv, pc) for k in (8, 9))
    torch.sub(vt[:, 0, :, None], qt[:, 0, None, :], out=d)
    torch.mul(d, d, out=sq)
    for k in (1, 2):
        torch.sub(vt[:, k, :, None], qt[:, k, None, :], out=d)
        sq.addcmul_(d, d)  # (Bc, V, Pc) mm^2, exact squared vertex distances
    sq = sq.view(bc * nv, pc)
    offset = (torch.arange(bc, device=q.device) * nv)[:, None]
    for k, out in ((0, pa2), (1, pb2)):
        torch.index_select(sq, 0, (faces[:, k] + offset).view(-1), out=out.view(bc * nf, pc))
    torch.baddbmm(g["ab_a"], g["ab"], qt, out=d1)  # (p - a).ab, (Bc, F, Pc) mm^2
    torch.baddbmm(g["ac_a"], g["ac"], qt, out=d2)  # (p - a).ac
    torch.baddbmm(g["nh_a"], g["nh"], qt, out=dn)  # signed distance to the plane, mm
    # In-plane barycentrics of the projection: inside the triangle iff min(u, v, w) >= 0.
    torch.mul(d1, g["k1"], out=x).addcmul_(d2, g["k2"])  # v
    torch.mul(d1, g["k2"], out=y).addcmul_(d2, g["k3"])  # w
    torch.sub(g["cu"], x, out=e1).sub_(y)  # u
    torch.minimum(x, y, out=e2)
    torch.minimum(e1, e2, out=e1)
    inside = e1 >= 0  # (Bc, F, Pc)
    best = _edge_sq(pa2, d1, g["ab2"], g["iab2"], x, e1).clone()  # edge ab
    torch.minimum(best, _edge_sq(pa2, d2, g["ac2"], g["iac2"], x, e1), out=best)  # edge ac
    d2.sub_(d1).add_(g["kbc"])  # (p - b).(c - b)
    torch.minimum(best, _edge_sq(pb2, d2, g["bc2"], g["ibc2"], x, e1), out=best)  # edge bc
    best = torch.where(inside, dn.square_(), best)  # squared distance, (Bc, F, Pc) mm^2
    return best.argmin(dim=1)  # (Bc, Pc)


def closest_point_on_mesh(
    points: torch.Tensor, vertices: torch.Tensor, faces: torch.Tensor, chunk: int = DEFAULT_CHUNK
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Closest points on triangle meshes.

    points (B, P, 3) or (P, 3) mm; vertices (B, V, 3) or (V, 3) mm; faces (F, 3) shared.
    chunk : about this many point-face pairs are evaluated at once (scratch ~ 12 x chunk elements).
    Returns (closest (B, P, 3) mm, distance (B, P) mm, face (B, P) int64), unbatched if neither input
    was. `closest` and `distance` are differentiable w.r.t. points and vertices (the choice of face
    is not). The mesh need not be closed.
    """
    points, vertices, faces, squeeze = as_batched(points, vertices, faces)
    nb, npts, _ = points.shape
    if faces.shape[0] == 0:
        raise ValueError("mesh has no faces")
    with torch.no_grad():
        terms = _face_terms(vertices.detach(), faces)
        # One mesh for several point sets: search them as one long set.
        q_all = (points.detach() - terms["center"]).reshape(vertices.shape[0], -1, 3)
        face = torch.zeros(q_all.shape[:2], dtype=torch.long, device=points.device)
        bc, pc = chunk_sizes(*q_all.shape[:2], faces.shape[0], chunk)
        nf = max(faces.shape[0], vertices.shape[1])
        work = torch.empty(10 * bc * nf * pc, dtype=points.dtype, device=points.device)
        for b0 in range(0, q_all.shape[0], bc):
            for p0 in range(0, q_all.shape[1], pc):
                q = q_all[b0 : b0 + bc, p0 : p0 + pc]
                face[b0 : b0 + bc, p0 : p0 + pc] = _nearest_face(terms, q, faces, b0, work)
        face = face.view(nb, npts)
    vertices = vertices.expand(nb, -1, -1)
    corners = faces[face]  # (B, P, 3) vertex indices
    tri = torch.gather(vertices, 1, corners.view(nb, -1, 1).expand(-1, -1, 3)).view(nb, npts, 3, 3)
    closest = closest_point_on_triangle(points, tri[..., 0, :], tri[..., 1, :], tri[..., 2, :])
    distance = torch.linalg.vector_norm(points - closest, dim=-1)  # (B, P) mm
    if squeeze:
        return closest[0], distance[0], face[0]
    return closest, distance, face


def unsigned_distance(
    points: torch.Tensor, vertices: torch.Tensor, faces: torch.Tensor, chunk: int = DEFAULT_CHUNK
) -> torch.Tensor:
    """Distance (B, P) mm from points (B, P, 3) mm to meshes (B, V, 3), faces (F, 3). Differentiable."""
    return closest_point_on_mesh(points, vertices, faces, chunk)[1]


def signed_distance(
    points: torch.Tensor, vertices: torch.Tensor, faces: torch.Tensor, chunk: int = DEFAULT_CHUNK
) -> torch.Tensor:
    """Signed distance (B, P) mm: negative inside the closed mesh, positive outside.

    points (B, P, 3) or (P, 3) mm; vertices (B, V, 3) or (V, 3) mm; faces (F, 3). The sign comes from
    the winding number (> 0.5 inside), the magnitude from `unsigned_distance`; differentiable in the
    magnitude. Penetration depth of points into a hand: `(-signed_distance(...)).clamp(min=0)`.
    """
    distance = unsigned_distance(points, vertices, faces, chunk)
    inside = winding_numbers(points.detach(), vertices.detach(), faces, chunk) > 0.5
    return torch.where(inside, -distance, distance)
