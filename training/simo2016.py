"""The 2016 sketch-simplification network's architecture (Simo-Serra et al., "Learning to
Simplify", SIGGRAPH 2016: 23 convolution layers, ~44 M parameters), with random weights.

Its trained weights are not redistributable and are not used: this exists only so the
benchmark can time the architecture in the same runtimes as ours.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from training.model import count_macs


def _conv(cin: int, cout: int, k: int = 3, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, stride, k // 2), nn.ReLU()]


def _up(cin: int, cout: int) -> list[nn.Module]:
    return [nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.ReLU()]


def simo2016() -> nn.Sequential:
    layers = (_conv(1, 48, 5, 2) + _conv(48, 128) + _conv(128, 128)
              + _conv(128, 128, 3, 2) + _conv(128, 256) + _conv(256, 256)
              + _conv(256, 256, 3, 2) + _conv(256, 512) + _conv(512, 1024)
              + _conv(1024, 1024) + _conv(1024, 1024) + _conv(1024, 1024)
              + _conv(1024, 512) + _conv(512, 256)
              + _up(256, 256) + _conv(256, 128) + _conv(128, 128)
              + _up(128, 128) + _conv(128, 128) + _conv(128, 48)
              + _up(48, 48) + _conv(48, 24) + [nn.Conv2d(24, 1, 3, 1, 1), nn.Sigmoid()])
    return nn.Sequential(*layers)


def export(path: Path) -> dict:
    """Write the architecture (random weights, seed 0) as ONNX; return its facts."""
    torch.manual_seed(0)
    model = simo2016().eval()
    torch.onnx.export(model, (torch.ones(1, 1, 64, 64),), str(path), input_names=["image"], output_names=["out"],
                      dynamic_axes={"image": {2: "h", 3: "w"}, "out": {2: "h", 3: "w"}}, opset_version=17, dynamo=False)
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    return {"conv_layers": len(convs), "parameters": sum(p.numel() for p in model.parameters()),
            "macs_per_pixel": count_macs(model, torch.ones(1, 1, 256, 256)) / 256 ** 2}
