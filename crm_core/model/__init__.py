"""The CRM network, its configurations and checkpoint files."""

from crm_core.model.config import CONFIGS, LIGHT, PAPER, ModelConfig
from crm_core.model.network import CRM, pixel_centres, weight_count

__all__ = ["CONFIGS", "CRM", "LIGHT", "PAPER", "ModelConfig", "pixel_centres", "weight_count"]
