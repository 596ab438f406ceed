"""Convolutional networks built from the source text's CNN formulas: convolution, pooling, dense layers.

``LeNet``: two 5x5 convolutions with max pooling, then three dense layers (LeCun's
classic shape, with ReLU). ``SmallVGG``: two blocks of two 3x3 convolutions with
batch normalisation and ReLU, each block ending in max pooling, then a small
dense head. Both accept any square input of at least 8x8 pixels.
"""

from __future__ import annotations

from minidl import nn


class LeNet(nn.Module):
    """conv5x5(6) → ReLU → maxpool2 → conv5x5(16) → ReLU → maxpool2 → 120 → 84 → classes."""

    def __init__(self, in_channels=1, num_classes=10, image_size=28):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2))
        side = image_size // 4
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * side * side, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def _block(in_channels, out_channels):
    return [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels),
            nn.ReLU(), nn.MaxPool2d(2)]


class SmallVGG(nn.Module):
    """[conv3x3-BN-ReLU x2, maxpool] with `width` then 2·`width` channels, then dropout and two dense layers."""

    def __init__(self, in_channels=1, num_classes=10, image_size=28, width=32, dropout=0.25):
        super().__init__()
        self.features = nn.Sequential(*_block(in_channels, width), *_block(width, 2 * width))
        side = image_size // 4
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(2 * width * side * side, 128), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(128, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
