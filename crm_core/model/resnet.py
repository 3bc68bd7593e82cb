"""ResNet-50 trunk through conv4_x with layer3 dilated to stride 8 (written here: no torchvision)."""

from __future__ import annotations

import torch
from torch import nn


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, dilation: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def _layer(inplanes: int, planes: int, blocks: int, stride: int, dilation: int, first_dilation: int) -> nn.Sequential:
    out_ch = planes * Bottleneck.expansion
    downsample = None
    if stride != 1 or inplanes != out_ch:
        downsample = nn.Sequential(nn.Conv2d(inplanes, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch))
    mods = [Bottleneck(inplanes, planes, stride, first_dilation, downsample)]
    mods += [Bottleneck(out_ch, planes, 1, dilation) for _ in range(blocks - 1)]
    return nn.Sequential(*mods)


class ResNet50Trunk(nn.Module):
    """Returns the paper's three taps: conv1 (/2, 64 ch, before max-pool), layer1 (/4, 256), layer3 (/8, 1024).

    layer4 is left out on purpose: the reference code computes it and throws it away (crm-facts §1.2).
    """

    tap_channels = (64, 256, 1024)

    def __init__(self, in_channels: int = 4):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = _layer(64, 64, 3, stride=1, dilation=1, first_dilation=1)
        self.layer2 = _layer(256, 128, 4, stride=2, dilation=1, first_dilation=1)
        self.layer3 = _layer(512, 256, 6, stride=1, dilation=2, first_dilation=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x1 = self.relu(self.bn1(self.conv1(x)))
        x2 = self.layer1(self.maxpool(x1))
        x3 = self.layer3(self.layer2(x2))
        return x1, x2, x3
