"""Names of the point sets tested against the other hand's occupancy (paper §III); no torch, so
settings and front ends can list them cheaply. `handviewer.intersect.points` builds them."""

POINT_SETS = ("sparse", "dense", "mesh", "surface")
# The point sets made of the plain mesh's surface: "mesh" its vertices, "surface" its vertices and its
# faces' centres (three times the points: a finger crossing another at right angles can overlap it by
# cm^3 with no vertex inside it).
SURFACE_SETS = ("mesh", "surface")
