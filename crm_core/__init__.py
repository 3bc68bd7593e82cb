"""CRM Studio's engine: the CRM model, multi-resolution inference, I/O, metrics and training. No Qt here."""

from crm_core.inference import Refiner
from crm_core.options import DEFAULT_RATIOS, RefineOptions, Stage

__all__ = ["DEFAULT_RATIOS", "RefineOptions", "Refiner", "Stage"]
