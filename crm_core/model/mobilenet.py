"""Light trunk: MobileNetV2 features 0..13 with the stride-16 stage dilated to stride 8.

Module names follow the layout of the common ImageNet MobileNetV2 checkpoint (``features.N...``), so those
weights load directly; that is the only reason for the nesting below.
"""

from __future__ import annotations

import torch
from torch import nn

# (expansion, out channels, repeats, stride) of features 1..13 (the 320/1280-channel tail is not used).
_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1))
_DILATE_FROM = 7  # features index of the first block whose stride is replaced by dilation


def _conv_bn_relu(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, dilation: int = 1) -> nn.Sequential:
    pad = (k - 1) // 2 * dilation
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int, dilation: int):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_conv_bn_relu(cin, hidden, 1))
        layers += [
            _conv_bn_relu(hidden, hidden, 3, stride, groups=hidden, dilation=dilation),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return x + out if self.use_res else out


class MobileNetV2Trunk(nn.Module):
    """Returns taps at /2 (16 ch), /4 (24 ch) and /8 (96 ch, dilated) like the ResNet trunk's three taps."""

    tap_channels = (16, 24, 96)

    def __init__(self, in_channels: int = 4):
        super().__init__()
        blocks: list[nn.Module] = [_conv_bn_relu(in_channels, 32, 3, stride=2)]
        cin = 32
        for expand, cout, repeats, stride in _SETTINGS:
            for i in range(repeats):
                index = len(blocks)
                s = stride if i == 0 else 1
                dilation = 1
                if index >= _DILATE_FROM:
                    dilation = 1 if (i == 0 and s == 2) else 2
                    s = 1
                blocks.append(InvertedResidual(cin, cout, s, expand, dilation))
                cin = cout
        self.features = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x1 = self.features[0:2](x)
        x2 = self.features[2:4](x1)
        x3 = self.features[4:14](x2)
        return x1, x2, x3
