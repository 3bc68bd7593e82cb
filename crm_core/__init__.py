"""CRM Studio's engine: the CRM model, multi-resolution inference, I/O, metrics and training. No Qt here."""

import os
import sys

# oneDNN (torch's CPU convolutions) keeps every convolution it has built, per input shape, up to 1024 of them. A
# dataset's crops all have different shapes, so the cache only grew: +210 MB of resident memory over 67 objects
# (Clothing Co-Parsing crops, bench/dataset_speed.py), and on over hundreds of objects. With room for 8 it stays flat
# (517 -> 522 MB) at the same CPU time per object (0.18 s), and a 6K photo's band refine is no slower. Read when
# torch builds its first convolution, so a caller's own setting wins.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")
os.environ.setdefault("LRU_CACHE_CAPACITY", "8")
# NumPy asks the kernel for huge pages for every array over 4 MB; where those must first be made by compacting memory
# (transparent huge pages set to "madvise", the default of Ubuntu and Debian), a 6K plane's first touch stalled for up
# to a second once the process held a few hundred MB: crm-refine on a 6000x3677 photo took 20.1 s with them and
# 10.1 s without, and restoring a 6K autosave 3.9 s and 0.9 s (bench/hugepages.py). A caller's own setting wins.
if "NUMPY_MADVISE_HUGEPAGE" not in os.environ:
    os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"  # read when NumPy is imported
    if "numpy" in sys.modules:  # imported already (the app's modules, a caller's): told directly, where NumPy
        import numpy  # still has the switch the variable sets (a private one: never a failed import for its sake)

        getattr((getattr(numpy, "_core", None) or numpy.core).multiarray, "_set_madvise_hugepage", bool)(False)

from crm_core.inference import Refiner, work_scale
from crm_core.options import DEFAULT_RATIOS, RefineOptions, Stage

__all__ = ["DEFAULT_RATIOS", "RefineOptions", "Refiner", "Stage", "work_scale"]
