"""Quantisation-aware training: the network's inner convolutions computed in int8, as OpenVINO
and ONNX Runtime run them from the exported model's QuantizeLinear/DequantizeLinear pairs.

Each inner (transposed) convolution rounds its input to uint8 over a fixed range calibrated once
from the float network (`calibrate`), and its weights to int8 per output channel (symmetric,
scale from the weights at every step). Rounding passes gradients straight through inside the
range (torch's fake-quantize ops), so training learns weights that survive it. The first
convolution (reading the page, whose faint lines are a few grey levels deep) and the last (the
logits that decide ink) stay in float: rounding them changed the most pixels after training.

Why: on CPUs without native bf16 (most laptops) OpenVINO computes f32, about half bf16's speed;
int8 runs there at about bf16's speed or better. Rounding a float network after training moved
0.2-0.3% of all ink decisions and dropped faint blush marks; trained with it, the network adapts.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import nn

FLOAT_LAYERS = ("e1.a", "out")  # kept in float (see the module docstring)
MODES = ("int8",)  # what --quantize takes


class _Quantized:
    """Mixed into Conv2d / ConvTranspose2d: fake-quantised input and weights. An input scale of 0
    means not calibrated yet: the layer computes in float (a prepared network loads float
    weights and computes exactly what they did until `calibrate` sets its ranges)."""

    weight: torch.Tensor
    in_scale: torch.Tensor
    in_zero: torch.Tensor
    W_AXIS = 0  # the weight's output-channel axis

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer("in_scale", torch.zeros(()))  # type: ignore[attr-defined]
        self.register_buffer("in_zero", torch.zeros(()))  # type: ignore[attr-defined]

    def set_range(self, lo: float, hi: float) -> None:
        """The input range the uint8 grid covers; it always holds 0 (zero padding, ReLU's floor)."""
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        scale = max(hi - lo, 1e-6) / 255
        self.in_scale.fill_(scale)
        self.in_zero.fill_(min(max(round(-lo / scale), 0), 255))

    def weight_scale(self) -> torch.Tensor:
        """Per output channel: the largest weight maps to 127 (symmetric, zero point 0)."""
        if hasattr(self, "frozen_scale"):  # export: a constant, not a computation on the weights
            return self.frozen_scale
        dims = [d for d in range(self.weight.dim()) if d != self.W_AXIS]
        return (self.weight.detach().abs().amax(dims) / 127).clamp_min(1e-12).float()

    def quantized_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not float(self.in_scale):
            return x, self.weight
        x = torch.fake_quantize_per_tensor_affine(x.float(), self.in_scale.float(), self.in_zero.round().int(), 0, 255)
        scale = self.weight_scale()
        zero = torch.zeros(scale.shape, dtype=torch.int32)
        w = torch.fake_quantize_per_channel_affine(self.weight.float(), scale, zero, self.W_AXIS, -128, 127)
        return x, w


class QuantConv2d(_Quantized, nn.Conv2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, w = self.quantized_inputs(x)
        return self._conv_forward(x, w, self.bias)


class QuantConvTranspose2d(_Quantized, nn.ConvTranspose2d):
    W_AXIS = 1  # (in, out, kh, kw)

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        x, w = self.quantized_inputs(x)
        return F.conv_transpose2d(x, w, self.bias, self.stride, cast(tuple[int, int], self.padding),
                                  self.output_padding, self.groups, self.dilation)


def _quantized_copy(m: nn.Conv2d | nn.ConvTranspose2d) -> nn.Module:
    """The same layer with m's weights, quantised (ranges not calibrated)."""
    q: nn.Conv2d | nn.ConvTranspose2d
    if isinstance(m, nn.ConvTranspose2d):
        q = QuantConvTranspose2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                                 m.output_padding, m.groups, m.bias is not None, m.dilation)
    else:
        q = QuantConv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
                        m.groups, m.bias is not None)
    q.load_state_dict(m.state_dict(), strict=False)  # all but the ranges
    return q


def prepare(model: nn.Module) -> nn.Module:
    """Swap `model`'s inner convolutions for quantised ones with their weights, in place, their
    ranges not yet calibrated. Returns the model."""
    for name, m in list(model.named_modules()):
        if type(m) in (nn.Conv2d, nn.ConvTranspose2d) and name not in FLOAT_LAYERS:
            parent_name, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent_name) if parent_name else model, child, _quantized_copy(m))
    return model


def layers(model: nn.Module) -> list[_Quantized]:
    return [m for m in model.modules() if isinstance(m, _Quantized)]


def is_quantized(state: dict[str, torch.Tensor]) -> bool:
    """Whether a state dict is that of a prepared network (its layers carry input ranges)."""
    return any(k.endswith(".in_scale") for k in state)


def is_calibrated(model: nn.Module) -> bool:
    qs = layers(model)
    return bool(qs) and all(float(q.in_scale) > 0 for q in qs)


@torch.no_grad()
def calibrate(model: nn.Module, batches: Iterable[tuple[torch.Tensor, ...]]) -> None:
    """Set every quantised layer's input range to the lowest and highest value it sees on
    `batches` (x, y, thickness, brush, faint), computing in float throughout."""
    qs = layers(model)
    seen: dict[int, tuple[float, float]] = {}

    def hook(mod, inp, _out):
        lo, hi = float(inp[0].min()), float(inp[0].max())
        old = seen.get(id(mod), (lo, hi))
        seen[id(mod)] = (min(old[0], lo), max(old[1], hi))

    for q in qs:
        q.in_scale.zero_()  # float while measuring
    handles = [q.register_forward_hook(hook) for q in qs]  # type: ignore[attr-defined]
    was_training = model.training
    model.eval()
    try:
        for x, _y, th, br, fa in batches:
            model(x, th, br, fa)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    for q in qs:
        q.set_range(*seen[id(q)])


def freeze(model: nn.Module) -> None:
    """Fix every layer's weight scales as constants, for export (`int8_weights` then stores the
    weights themselves as int8)."""
    for q in layers(model):
        q.register_buffer("frozen_scale", q.weight_scale(), persistent=False)  # type: ignore[attr-defined]


def int8_weights(model: onnx.ModelProto) -> None:
    """Store each weight that a QuantizeLinear rounds with constant scale and zero point as the
    int8 values it rounds to, read by the DequantizeLinear after it (the form quantisation tools
    write and OpenVINO reads as int8 weights; 4x smaller)."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}

    def value(name: str):
        if name in inits:
            return numpy_helper.to_array(inits[name])
        if name in consts:
            return numpy_helper.to_array(consts[name].attribute[0].t)
        return None

    for node in [n for n in g.node if n.op_type == "QuantizeLinear"]:
        w, scale, zero = (value(i) for i in node.input)
        if w is None or scale is None or zero is None or w.ndim != 4:
            continue  # an activation: rounded at run time
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        shape = [1] * w.ndim
        shape[axis] = -1
        q = np.clip(np.rint(w / scale.reshape(shape)) + zero.reshape(shape).astype(np.int32),
                    np.iinfo(zero.dtype).min, np.iinfo(zero.dtype).max).astype(zero.dtype)
        name = node.output[0]
        g.initializer.append(numpy_helper.from_array(q, name))
        g.node.remove(node)
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    for init in [i for i in g.initializer if i.name not in used]:
        g.initializer.remove(init)
    for node in [n for n in g.node if n.op_type == "Constant" and n.output[0] not in used]:
        g.node.remove(node)
