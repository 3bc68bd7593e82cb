"""What a refinement will cost, said before it starts: a person who drops a 196 MP photo on the tool should
learn "about 48 s and 12 GB" up front, not discover it from a frozen machine.

Both numbers are linear fits in the photo's pixel count, measured with crm-refine (default options, bundled
weights, snap and matte on) on a 2-core CPU; README.md (Memory and time) gives the runs behind them. Memory
is bounded by the same line for every accepted size: the band keeps the model's work near the edge, encoder
tiles bound its buffers, and the matte solves at ≤ 1200 px; what grows with the photo are its full-resolution
arrays (the photo, the coarse mask, a few probability planes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# Wall time and peak RSS (/usr/bin/time) of crm-refine on the bundled sample resized to 1500x1000, 3000x2000,
# 6000x4000 and 12000x8000, on 2 idle x86-64 cores without AMX: 6.2, 6.6, 11.0 and 36.4 s (session 30; the
# 12000x8000 mask reads as a label; three runs took 29-37 s); 0.87, 0.98, 1.50 and 4.50 GB
# (session 23; 0.64, 0.78, 1.57 and 4.57 GB in session 30). The time is the least-squares line (within 1.5 s of
# each run); the memory line is an upper bound (a run is refused on it), where the old 33 bytes a pixel fell
# 0.45 GB short at 96 MP. A mask held
# as a label costs more: the leash's distance transforms run at full resolution. The sample's mask scaled ×4 reads as
# one (its staircase is straight sides), and at 14000x9333 (131 MP) and 17140x11427 (196 MP) peaked at 8.33 and
# 11.2 GB (session 26, a tester's 8.35 GB against the 6.1 GB then said): 40 bytes a pixel fell 2.2 GB short.
# (Before the band and the tiled encoder the line was 4.6 s + 4.1 s per megapixel, 13 min at 196 MP; it told a
# person a 6K photo would take 2 minutes that took 15 s. Session 23's was 9.3 s + 0.2 s per megapixel.)
BASE_BYTES = 880_000_000  # the line's intercept: interpreter, torch, pymatting/numba, the model
BYTES_PER_PIXEL = 57  # its slope: full-resolution planes of the photo, the masks, the leash and the stage buffers
BASE_SECONDS = 4.6  # starting the process, loading the model, compiling the matte's solver, reading the photo
SECONDS_PER_MEGAPIXEL = 0.33
SAY_OVER_SECONDS = 60.0
SAY_OVER_BYTES = 2_000_000_000


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
        megapixels = hw[0] * hw[1] / 1e6
        size = f"{megapixels:.0f}" if megapixels >= 10 else f"{megapixels:.1f}"
        return (f"a {hw[1]}x{hw[0]} photo ({size} MP) takes {took} on 2 CPU cores "
                f"and up to {self.peak_bytes / 1e9:.1f} GB of memory")


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


def resident_bytes() -> int:
    """Memory this process already holds (Linux /proc/self/statm), part of any estimate; 0 where unknown."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
