"""handviewer: view, measure and resolve intersections between two 3D hands.

Importing the package is cheap: it loads neither Qt nor torch. Sub-packages
(`handviewer.hand`, `handviewer.occupancy`, ...) load torch when imported.
"""

__version__ = "0.1.0"
