"""Geometry of closed triangle meshes (hands): inside tests, distances, self-intersections, volume.

Pure torch/numpy, no Qt. Units are millimetres. Batches of meshes share one face array (F, 3) and
have vertices (B, V, 3); faces are counter-clockwise seen from outside (outward normals).

- `winding_numbers`, `inside_mesh`, `inside_all`: generalised winding numbers, the project's inside
  test (`inside_all`: inside every mesh of a set, e.g. both hands, for intersection counts).
- `closest_point_on_mesh`, `unsigned_distance`, `signed_distance`: exact point-mesh distances.
- `self_intersections`, `is_self_intersecting`: crossing triangle pairs of one mesh (numpy).
- `mesh_volume`, `check_closed_manifold`: divergence-theorem volume, watertightness check.
- `bounding_box`, `grid_points`, `pair_grid`: boxes and the 50^3 sample grids.
- `intersect_meshes` (`MeshIntersection`, `ManifoldError`): the exact body inside two closed meshes
  and its volume (manifold3d's boolean).
- `grid_inside`: the grid points inside a closed mesh, one ray per grid column (numpy).
- `point_mesh_distance`, `point_triangle_distance`: exact distances of a few points (numpy, pruned).
"""

from .boolean import ManifoldError, MeshIntersection, intersect_meshes
from .distance import closest_point_on_mesh, closest_point_on_triangle, signed_distance, unsigned_distance
from .grid import bounding_box, grid_points, pair_grid
from .nearest import point_mesh_distance, point_triangle_distance
from .scanline import grid_inside
from .self_intersect import is_self_intersecting, self_intersections, triangles_intersect
from .volume import check_closed_manifold, mesh_volume
from .winding import inside_all, inside_mesh, winding_numbers

__all__ = [
    "winding_numbers",
    "inside_mesh",
    "inside_all",
    "closest_point_on_triangle",
    "closest_point_on_mesh",
    "unsigned_distance",
    "signed_distance",
    "self_intersections",
    "is_self_intersecting",
    "triangles_intersect",
    "mesh_volume",
    "check_closed_manifold",
    "bounding_box",
    "grid_points",
    "pair_grid",
    "intersect_meshes",
    "MeshIntersection",
    "ManifoldError",
    "grid_inside",
    "point_mesh_distance",
    "point_triangle_distance",
]
