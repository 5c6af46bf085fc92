"""Which torch device the compute runs on: "auto" (CUDA when torch sees one), "cpu" or "cuda".

Importing this module does not load torch (`AUTO_CUDA_MIN_BATCH` is help text of the command line
and the settings panel); the functions load it when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handviewer.pipeline.settings import DEVICE_NAMES

if TYPE_CHECKING:
    import torch

# Under "auto", batches of fewer frames run on the CPU. At small batches a GPU loses to launch
# overhead: on an H200 against 2 CPU threads, uplift + refinement ran 0.5x as fast at batch 1, 0.9x
# at 16 and 32, 1.2x at 64, 4.5x at 256 (benchmarks/README.md, "CUDA"), and CUDA's start-up costs
# seconds once per run.
AUTO_CUDA_MIN_BATCH = 64


def pick_device(name: str) -> torch.device:
    """The device a user asked for by name; a clear error for CUDA where torch sees none."""
    import torch

    if name not in DEVICE_NAMES:
        raise ValueError(f"device must be one of {DEVICE_NAMES}, got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was asked for but torch sees no CUDA device "
                         f"(torch {torch.__version__}, built for CUDA {torch.version.cuda or 'no'})")
    return torch.device(name)


def device_or_cpu(name: str) -> tuple[torch.device, str | None]:
    """Like `pick_device`, but where CUDA is absent the CPU, with a warning for the user instead of an
    error: a setting saved on a machine with a GPU must still open on one without."""
    import torch

    try:
        return pick_device(name), None
    except ValueError as exc:
        if name != "cuda":
            raise
        return torch.device("cpu"), f"{exc}: running on the CPU"


def cuda_available() -> bool:
    """Whether torch sees a CUDA device (without starting CUDA, which takes a second or more)."""
    import torch

    return torch.cuda.is_available()


def missing_cuda_warning(name: str) -> str | None:
    """What to tell a user whose setting `name` asks for CUDA where there is none, else None."""
    return device_or_cpu(name)[1] if name == "cuda" else None
