"""Start the trunk from ImageNet weights in torchvision's file layout (training-time input only, --init FILE).

The 4th input channel (the mask) gets zero weights, as in the reference: the pretrained photo features are
untouched at step 0 and the network learns how much to trust the mask.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from crm_core.errors import WeightsError
from crm_core.io import check_regular
from crm_core.model.network import CRM

_FIRST_CONV = {"mobilenetv2": "features.0.0.weight", "resnet50": "conv1.weight"}
_KEEP = {
    "mobilenetv2": tuple(f"features.{i}." for i in range(14)),
    "resnet50": ("conv1.", "bn1.", "layer1.", "layer2.", "layer3."),
}


def load_pretrained(model: CRM, path: str | Path) -> int:
    """Copy matching trunk weights from a torchvision state dict; returns how many tensors were loaded."""
    path = check_regular(path, "a weights file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch.load on arbitrary bytes can raise nearly anything (KeyError, EOFError, ...)
        reason = "it holds Python objects besides tensors" if isinstance(err, pickle.UnpicklingError) else type(err).__name__
        raise WeightsError(f"{path}: cannot read pretrained weights ({reason}); pass a torchvision .pth state dict.") from None
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: not a state dict of named tensors; pass a torchvision .pth state dict.")
    encoder = model.config.encoder
    target = model.trunk.state_dict()
    picked = {k: v for k, v in state.items() if k.startswith(_KEEP[encoder]) and k in target}
    first = _FIRST_CONV[encoder]
    if first not in picked:
        raise WeightsError(f"{path}: no {first} inside; this is not a torchvision {encoder} state dict.")
    weight = picked[first]
    padded = torch.zeros_like(target[first])
    padded[:, : weight.shape[1]] = weight
    picked[first] = padded
    wrong = [k for k, v in picked.items() if v.shape != target[k].shape]
    if wrong:
        raise WeightsError(f"{path}: shapes differ from the {encoder} trunk ({', '.join(wrong[:3])}).")
    model.trunk.load_state_dict(picked, strict=False)
    return len(picked)
