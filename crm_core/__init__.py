"""CRM Studio's engine: the CRM model, multi-resolution inference, I/O, metrics and training. No Qt here."""

import os

# oneDNN (torch's CPU convolutions) keeps every convolution it has built, per input shape, up to 1024 of them. A
# dataset's crops all have different shapes, so the cache only grew: +210 MB of resident memory over 67 objects
# (Clothing Co-Parsing crops, bench/dataset_speed.py), and on over hundreds of objects. With room for 8 it stays flat
# (517 -> 522 MB) at the same CPU time per object (0.18 s), and a 6K photo's band refine is no slower. Read when
# torch builds its first convolution, so a caller's own setting wins.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")
os.environ.setdefault("LRU_CACHE_CAPACITY", "8")

from crm_core.inference import Refiner, work_scale
from crm_core.options import DEFAULT_RATIOS, RefineOptions, Stage

__all__ = ["DEFAULT_RATIOS", "RefineOptions", "Refiner", "Stage", "work_scale"]
