"""Names of the point sets tested against the other hand's occupancy (paper §III); no torch, so
settings and front ends can list them cheaply. `handviewer.intersect.points` builds them."""

POINT_SETS = ("sparse", "dense", "mesh")
