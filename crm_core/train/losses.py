"""The paper's loss (crm-facts §2.5): 1·CE + 0.5·L1 + 0.5·L2 on query points, 2·gradient loss on a dense window."""

from __future__ import annotations

import torch
import torch.nn.functional as F

WEIGHTS = {"ce": 1.0, "l1": 0.5, "l2": 0.5, "grad": 2.0}
_SOBEL_X = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]) / 4


def sobel(x: torch.Tensor) -> torch.Tensor:
    """Edge magnitude of (B, H, W) maps after a 3×3 box blur (which keeps it from chasing pixel noise)."""
    x = F.avg_pool2d(x.unsqueeze(1), 3, stride=1, padding=1)
    kernel = torch.stack([_SOBEL_X, _SOBEL_X.t()]).unsqueeze(1).to(x)
    g = F.conv2d(x, kernel, padding=1)
    return torch.sqrt((g * g).sum(1) + 1e-4)


def point_terms(logits: torch.Tensor, gt: torch.Tensor) -> dict[str, torch.Tensor]:
    """CE against GT > 0.5 (the reference binarises), L1/L2 against the soft GT."""
    prob = torch.sigmoid(logits)
    return {
        "ce": F.binary_cross_entropy_with_logits(logits, (gt > 0.5).float()),
        "l1": (prob - gt).abs().mean(),
        "l2": ((prob - gt) ** 2).mean(),
    }


def grad_term(window_logits: torch.Tensor, window_gt: torch.Tensor) -> torch.Tensor:
    return (sobel(torch.sigmoid(window_logits)) - sobel(window_gt)).abs().mean()


def total(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    return sum(WEIGHTS[name] * value for name, value in terms.items())
