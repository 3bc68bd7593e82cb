"""The Continuous Refinement Model: encoder + fusion into a stride-2 latent, then an implicit decoder.

The decoder follows the paper's CAM (Sec. 3.2-3.3, Eq. 3): each query looks up its 4 surrounding latent cells,
feeds [feature, C_r, C_t, r] (C+6 values) through the MLP and blends the 4 logits with area weights.
The MLP's first layer is linear, so its feature part is applied once per latent cell (``project``) instead of
once per query and neighbour: same function, a fraction of the work.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from crm_core.model.config import ModelConfig
from crm_core.model.mobilenet import MobileNetV2Trunk
from crm_core.model.resnet import ResNet50Trunk

POSITION_DIMS = 6  # C_r (2), C_t (2), r (2)
_EPS = 1e-6
_QUERY_BLOCK = 4096  # queries decoded at once: small enough for the 32-wide MLP to stay in cache
_SHIFTS = ((-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0))


def _tap(cin: int, cout: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Dropout2d(dropout) if dropout > 0 else nn.Identity(),
    )


class Fusion(nn.Module):
    """Merges the three taps at stride 2 (the reference's "ASPP_no4level": 1×1 taps, concat, one 3×3 conv)."""

    def __init__(self, tap_in: tuple[int, int, int], config: ModelConfig):
        super().__init__()
        self.taps = nn.ModuleList(_tap(cin, cout, config.dropout) for cin, cout in zip(tap_in, config.taps))
        k = config.fusion_kernel
        self.fuse = nn.Sequential(
            nn.Conv2d(sum(config.taps), config.latent, k, padding=k // 2, bias=False),
            nn.BatchNorm2d(config.latent),
            nn.ReLU(inplace=True),
            nn.Dropout2d(config.dropout) if config.dropout > 0 else nn.Identity(),
        )

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, x3: torch.Tensor) -> torch.Tensor:
        size = x1.shape[-2:]
        parts = [self.taps[0](x1)]
        for tap, x in zip(self.taps[1:], (x2, x3)):
            parts.append(F.interpolate(tap(x), size=size, mode="bilinear", align_corners=True))
        return self.fuse(torch.cat(parts, 1))


class ImplicitDecoder(nn.Module):
    """D_phi: (C+6) -> hidden x layers -> 1, ReLU between layers, no output activation."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        dims = [config.latent + POSITION_DIMS] + [config.hidden] * config.layers
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:]))
        self.out = nn.Linear(config.hidden, 1)
        self.latent = config.latent

    def project(self, latent: torch.Tensor) -> torch.Tensor:
        """Feature part of the first layer, bias included, per latent cell: (B, C, h, w) -> (B, hidden, h, w)."""
        first = self.linears[0]
        return F.conv2d(latent, first.weight[:, : self.latent, None, None], first.bias)

    def forward(self, features: torch.Tensor, rel: torch.Tensor, per_query: torch.Tensor) -> torch.Tensor:
        """Logits (q, 4) for q queries: features (q, 4, hidden) already projected, rel (q, 4, 2), per_query (q, hidden).

        The position input [C_r, C_t, r] enters the first layer as a sum of small products: C_r differs per
        neighbour, C_t and r only per query, so their share is computed once per query.
        """
        w_rel = self.linears[0].weight[:, self.latent : self.latent + 2]
        h = features + torch.matmul(rel, w_rel.t()) + per_query.unsqueeze(1)
        h = torch.relu_(h)
        for layer in self.linears[1:]:
            h = torch.relu_(layer(h))
        return self.out(h).squeeze(-1)

    def query_term(self, coords: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
        """First-layer share of C_t (q, 2) and r (2,): (q, hidden)."""
        w = self.linears[0].weight[:, self.latent + 2 :]
        return torch.matmul(coords, w[:, :2].t()) + torch.matmul(cell, w[:, 2:].t())


def neighbour_lookup(
    coords: torch.Tensor, feat_hw: tuple[int, int], offset: tuple[int, int], region_hw: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each query, the 4 latent cells around it (CAM's supporting points z_k).

    coords: (..., 2) query centres (y, x) in [-1, 1] of the whole target grid.
    feat_hw: size of the latent grid of the whole image; offset/region_hw: the part of it that is in memory
    (a tile), so tiled and untiled runs address the same global cells.
    Returns flat indices into the region (..., 4), rel offsets C_r (..., 4, 2) in cell units, and the
    aggregation weights (..., 4) that sum to 1 (Eq. 3: each neighbour weighted by the opposite area).
    """
    size = coords.new_tensor(feat_hw, dtype=coords.dtype)
    shifts = coords.new_tensor(_SHIFTS) / size + _EPS  # (4, 2)
    shifted = (coords.unsqueeze(-2) + shifts).clamp_(-1 + _EPS, 1 - _EPS)
    cell = torch.minimum(torch.floor((shifted + 1) * 0.5 * size).clamp_min_(0), size - 1)
    centre = (2 * cell + 1) / size - 1
    rel = (coords.unsqueeze(-2) - centre) * size
    cell = cell.long()
    iy = (cell[..., 0] - offset[0]).clamp_(0, region_hw[0] - 1)
    ix = (cell[..., 1] - offset[1]).clamp_(0, region_hw[1] - 1)
    idx = iy * region_hw[1] + ix
    area = (rel[..., 0] * rel[..., 1]).abs() + 1e-9
    area = area.flip(-1)  # neighbour k takes the area of its diagonal opposite 3-k
    weights = area / area.sum(-1, keepdim=True)
    return idx, rel, weights


class CRM(nn.Module):
    """Continuous Refinement Model with a configurable trunk."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        trunk_cls = ResNet50Trunk if config.encoder == "resnet50" else MobileNetV2Trunk
        self.trunk = trunk_cls(in_channels=4)
        self.fusion = Fusion(trunk_cls.tap_channels, config)
        self.decoder = ImplicitDecoder(config)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 4, h, w) normalised RGB + mask in [-1, 1] -> projected latent (B, hidden, ceil(h/2), ceil(w/2))."""
        return self.decoder.project(self.fusion(*self.trunk(x)))

    def decode(
        self,
        projected: torch.Tensor,
        coords: torch.Tensor,
        target_hw: tuple[int, int],
        feat_hw: tuple[int, int] | None = None,
        offset: tuple[int, int] = (0, 0),
    ) -> torch.Tensor:
        """Logits at query centres.

        projected: (B, hidden, h, w) from ``encode`` (possibly one tile of the global latent grid).
        coords: (B, N, 2) query centres (y, x) in [-1, 1] over a target grid of target_hw pixels.
        feat_hw: the global latent size (defaults to the region's own size); offset: the region's origin in it.
        """
        b, hidden, h, w = projected.shape
        n = coords.shape[1]
        feat_hw = feat_hw or (h, w)
        flat = projected.permute(0, 2, 3, 1).reshape(b * h * w, hidden)
        cell = coords.new_tensor([2.0 * feat_hw[0] / target_hw[0], 2.0 * feat_hw[1] / target_hw[1]])
        base = (torch.arange(b, device=coords.device) * (h * w)).repeat_interleave(n)
        coords = coords.reshape(b * n, 2)
        outs = []
        for start in range(0, b * n, _QUERY_BLOCK):
            c = coords[start : start + _QUERY_BLOCK]
            idx, rel, weights = neighbour_lookup(c, feat_hw, offset, (h, w))
            idx = idx + base[start : start + _QUERY_BLOCK, None]
            features = flat.index_select(0, idx.reshape(-1)).reshape(-1, 4, hidden)
            logits = self.decoder(features, rel, self.decoder.query_term(c, cell))
            outs.append((logits * weights).sum(-1))
        return torch.cat(outs).reshape(b, n)

    def forward(self, x: torch.Tensor, coords: torch.Tensor, target_hw: tuple[int, int]) -> torch.Tensor:
        return self.decode(self.encode(x), coords, target_hw)


def weight_count(model: nn.Module) -> int:
    """Conv and linear weights and biases, no BatchNorm: the convention behind the paper's 9.27M."""
    return sum(
        p.numel() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for p in m.parameters(recurse=False)
    )


def pixel_centres(n: int, device: torch.device | None = None) -> torch.Tensor:
    """Centres of n pixels along one axis in [-1, 1]: -1 + (2i + 1) / n."""
    return (torch.arange(n, device=device, dtype=torch.float32) * 2 + 1) / n - 1
