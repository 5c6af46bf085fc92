"""How many CPU threads torch uses: all cores on a free machine, one when the machine is busy.

torch's default (one thread per core) collapses when other jobs hold the cores: its threads spin and
wait for each other (`count_intersections` went from 65 ms to 2.4 s median with 2 threads on 2 busy
cores, 136 ms with 1). One thread loses at most the parallel speed-up (1.4x on 2 free cores), so it
is the safe choice whenever the cores are not free. $HANDVIEWER_THREADS overrides the choice.
"""

from __future__ import annotations

import os
import sys

THREADS_ENV = "HANDVIEWER_THREADS"


def choose_threads(cores: int | None = None, load: float | None = None) -> int:
    """Threads for torch: $HANDVIEWER_THREADS if set, else all `cores` when the 1-minute load average
    leaves at least one core free beside ours, else 1."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    if value:
        print(f"handviewer: warning: ${THREADS_ENV}={value!r} is not a positive number; ignored", file=sys.stderr)
    cores = cores or os.cpu_count() or 1
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # not on this platform
            return cores
    return cores if load <= cores - 1 else 1


_chosen: int | None = None


def apply_thread_choice() -> int:
    """Set torch's thread count by `choose_threads` once per process (later calls keep it: by then the
    load average counts our own work); returns it."""
    global _chosen
    if _chosen is None:
        import torch

        _chosen = choose_threads()
        torch.set_num_threads(_chosen)
    return _chosen
