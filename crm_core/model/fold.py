"""Fold eval-mode BatchNorm into the preceding convolution: fewer passes over big activations at inference."""

from __future__ import annotations

import torch
from torch import nn


def _fold_pair(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    conv.weight.data.mul_(scale.reshape(-1, 1, 1, 1))
    bias = conv.bias.data if conv.bias is not None else torch.zeros_like(bn.running_mean)
    conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias)


@torch.no_grad()
def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Works on the two layouts the trunks use: Sequential(conv, bn, ...) and attribute pairs convN/bnN."""
    for module in model.modules():
        if isinstance(module, nn.Sequential):
            for i in range(len(module) - 1):
                if isinstance(module[i], nn.Conv2d) and isinstance(module[i + 1], nn.BatchNorm2d):
                    _fold_pair(module[i], module[i + 1])
                    module[i + 1] = nn.Identity()
        for name, child in list(module.named_children()):
            if name.startswith("conv") and isinstance(child, nn.Conv2d):
                bn_name = "bn" + name[4:]
                bn = getattr(module, bn_name, None)
                if isinstance(bn, nn.BatchNorm2d):
                    _fold_pair(child, bn)
                    setattr(module, bn_name, nn.Identity())
    return model
