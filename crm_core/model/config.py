"""Model sizes as data, so the paper's network and a lighter one share one code path."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a CRM network.

    encoder: "resnet50" is the paper's trunk (conv1..layer3, layer3 dilated to stride 8);
        "mobilenetv2" is the light trunk (features 0..13, blocks 7..13 dilated to stride 8),
        which can start from ImageNet MobileNetV2 weights.
    taps: output channels of the 1×1 projections of the stride-2, stride-4 and stride-8 taps.
    latent: channels of the fused stride-2 latent map F_latent.
    fusion_kernel: kernel of the fusion conv (3 in the paper).
    hidden, layers: width and number of hidden layers of the implicit MLP D_phi.
    dropout: dropout after each fusion block during training (0.5 in the reference code).
    """

    encoder: Literal["resnet50", "mobilenetv2"] = "resnet50"
    taps: tuple[int, int, int] = (64, 64, 128)
    latent: int = 256
    fusion_kernel: int = 3
    hidden: int = 32
    layers: int = 4
    dropout: float = 0.5

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        data = json.loads(text)
        data["taps"] = tuple(data["taps"])
        return cls(**data)


PAPER = ModelConfig()
LIGHT = ModelConfig(encoder="mobilenetv2", taps=(32, 32, 64), latent=64, fusion_kernel=3, dropout=0.1)

CONFIGS: dict[str, ModelConfig] = {"paper": PAPER, "light": LIGHT}
