"""Names of the synthetic interaction kinds; plain Python, so the command line can list them
without loading numpy's geometry, scipy or torch. `templates` defines each kind."""

SCENE_KINDS = ("palms", "steeple", "clasp", "stacked", "cross", "tips")
SAMPLE_KIND = "stacked"  # the sample clip's: one hand over the other, both visible, most corrupted frames intersect
