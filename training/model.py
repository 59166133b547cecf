"""The lineart network: a small conditioned U-Net that never convolves at full resolution.

Input pixels are folded 2x2 into channels (PixelUnshuffle) and the output is unfolded
(PixelShuffle), so the most expensive, memory-bound level of a classic U-Net disappears while
every output pixel is still predicted individually (crisp 1 px lines stay possible).
Line thickness, brush preset and faint-line threshold modulate every block (FiLM), so one
network serves every slider position.
"""
from __future__ import annotations

import math

import torch
from torch import nn

WIDTHS = (24, 48, 80, 128)  # channels at 1/2, 1/4, 1/8, 1/16 resolution
SIZE_MULTIPLE = 16  # 2 (fold) * 2**3 (three stride-2 levels); twice that with a `Context` branch


def conditions(thickness: torch.Tensor, brush: torch.Tensor, faint: torch.Tensor) -> torch.Tensor:
    """(N,1) px, (N,K) one-hot, (N,1) -> (N, K+2) network conditioning vector."""
    return torch.cat([torch.log(thickness) / math.log(8.0), brush, faint], dim=1)


class FiLM(nn.Module):
    def __init__(self, n_cond: int, channels: int):
        super().__init__()
        self.proj = nn.Linear(n_cond, 2 * channels)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.proj(cond)[:, :, None, None].chunk(2, dim=1)
        return x * (1 + gamma) + beta


class Block(nn.Module):
    """conv-relu-conv-relu with a residual path, then FiLM; optional stride-2 entry."""

    def __init__(self, cin: int, cout: int, n_cond: int, stride: int = 1, dilation: int = 1):
        super().__init__()
        self.a = nn.Conv2d(cin, cout, 3, stride, 1)
        self.b = nn.Conv2d(cout, cout, 3, 1, dilation, dilation=dilation)
        self.film = FiLM(n_cond, cout)
        self.act = nn.ReLU(inplace=True)
        self.residual = True  # False once fold_residual() has put the identity into b

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.act(self.a(x))
        return self.film(self.act(h + self.b(h) if self.residual else self.b(h)), cond)

    def fold_residual(self) -> None:
        """h + b(h) as one convolution, the identity added to b's centre tap: the same function
        with one pass over the activations less, which lets a runtime fuse b, the ReLU and FiLM."""
        c = self.b.out_channels
        with torch.no_grad():
            self.b.weight[torch.arange(c), torch.arange(c), 1, 1] += 1.0
        self.residual = False


class Context(nn.Module):
    """What lies further along the lines, for the bottleneck: one more stride-2 level (1/32) with
    a dilated convolution, added back to it. Whether passes meet again 30 px on or part for good
    tells a line's passes from two lines, and a wider network did not learn that from the
    1/16 level's reach; at 1/32 this costs about 2% more multiply-adds. Its last layer starts
    at zero, so a model grown from one without it (`grow`) begins as that one."""

    def __init__(self, channels: int):
        super().__init__()
        self.down = nn.Conv2d(channels, channels, 3, 2, 1)
        self.wide = nn.Conv2d(channels, channels, 3, 1, 2, dilation=2)
        self.up = nn.ConvTranspose2d(channels, channels, 2, 2)
        for p in self.up.parameters():
            nn.init.zeros_(p)
        self.act = nn.ReLU(inplace=True)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.up(self.act(self.wide(self.act(self.down(h)))))


class LineartNet(nn.Module):
    def __init__(self, n_brushes: int, widths: tuple[int, ...] = WIDTHS, planes: int = 1, context: bool = False):
        """planes: 1, the grey sketch; 2, also the light blue the drop-out removed (a second
        image plane, optional at run time: a 1-plane image reads as no blue).
        context: a `Context` branch at the bottleneck (input sizes then multiples of 32)."""
        super().__init__()
        self.planes = planes
        n_cond = n_brushes + 2
        c1, c2, c3, c4 = widths
        self.cond = nn.Sequential(nn.Linear(n_cond, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        nc = 32
        self.fold = nn.PixelUnshuffle(2)
        self.e1 = Block(4 * planes, c1, nc)
        self.e2 = Block(c1, c2, nc, stride=2)
        self.e3 = Block(c2, c3, nc, stride=2)
        self.e4 = Block(c3, c4, nc, stride=2)
        self.mid = Block(c4, c4, nc, dilation=2)
        self.ctx = Context(c4) if context else None
        self.up3 = nn.ConvTranspose2d(c4, c3, 2, 2)
        self.d3 = Block(2 * c3, c3, nc)
        self.up2 = nn.ConvTranspose2d(c3, c2, 2, 2)
        self.d2 = Block(2 * c2, c2, nc)
        self.up1 = nn.ConvTranspose2d(c2, c1, 2, 2)
        self.d1 = Block(2 * c1, c1, nc)
        self.out = nn.Conv2d(c1, 4, 3, 1, 1)
        self.unfold = nn.PixelShuffle(2)

    @property
    def size_multiple(self) -> int:
        return SIZE_MULTIPLE * (2 if self.ctx is not None else 1)

    def forward(self, image: torch.Tensor, thickness: torch.Tensor, brush: torch.Tensor,
                faint: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """image (N,P,H,W): grey white=1 ink=0, then (2-plane models, optional) blue 0..1; H and
        W multiples of `size_multiple` -> (N,1,H,W) (or, for training, the pre-sigmoid logits)."""
        cond = self.cond(conditions(thickness, brush, faint))
        x = 1.0 - image[:, :1]  # ink positive, so zero padding reads as paper
        if self.planes == 2:  # a sum over no planes is zeros: a grey-only image has no blue
            x = torch.cat([x, image[:, 1:].sum(1, keepdim=True)], 1)
        x = self.fold(x)
        s1 = self.e1(x, cond)
        s2 = self.e2(s1, cond)
        s3 = self.e3(s2, cond)
        h = self.mid(self.e4(s3, cond), cond)
        if self.ctx is not None:
            h = self.ctx(h)
        h = self.d3(torch.cat([self.up3(h), s3], 1), cond)
        h = self.d2(torch.cat([self.up2(h), s2], 1), cond)
        h = self.d1(torch.cat([self.up1(h), s1], 1), cond)
        z = self.unfold(self.out(h))
        return z if logits else torch.sigmoid(z)


def count_macs(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Multiply-adds of all (transposed) convolutions for one forward pass, via hooks."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, nn.ConvTranspose2d):  # every input position meets the whole kernel
            total += inp[0].numel() * mod.out_channels * mod.kernel_size[0] * mod.kernel_size[1]
        else:
            total += out.numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        model(*inputs)
    for h in handles:
        h.remove()
    return total


def macs_per_pixel(model: LineartNet, size: int = 256) -> float:
    """Multiply-adds per input pixel."""
    first = model.cond[0]
    assert isinstance(first, nn.Linear)
    k = first.in_features - 2
    return count_macs(model, torch.ones(1, model.planes, size, size), torch.ones(1, 1) * 3, torch.eye(k)[:1],
                      torch.ones(1, 1) * 0.3) / size ** 2


def receptive_field(model: LineartNet) -> int:
    """Theoretical receptive field (px) from layer arithmetic along the deepest path."""
    # fold(2) -> e1(2 convs) -> e2,e3,e4 (stride-2 conv + conv) -> mid (conv + dilated conv)
    # [-> context: stride-2 conv + dilated conv, back up] -> d3, d2, d1 (2 convs each) -> out conv -> unfold.
    rf, jump = 2, 2  # after the 2x2 fold, one position covers 2 px and steps by 2 px
    def conv(k: int, stride: int = 1, dilation: int = 1) -> None:
        nonlocal rf, jump
        rf += (k - 1) * dilation * jump
        jump *= stride
    conv(3); conv(3)  # e1
    for _ in range(3):  # e2..e4
        conv(3, 2); conv(3)
    conv(3); conv(3, dilation=2)  # mid
    if model.ctx is not None:
        conv(3, 2); conv(3, dilation=2)
        jump //= 2  # its transposed conv (k=2, s=2) does not widen it
    for _ in range(3):  # d3..d1: transposed conv (k=2, s=2) does not widen it, 2 convs each
        jump //= 2
        conv(3); conv(3)
    conv(3)  # out
    return rf


def shape_of(state: dict[str, torch.Tensor]) -> tuple[tuple[int, ...], int]:
    """(widths, planes) of the LineartNet whose state dict this is."""
    widths = tuple(state[f"e{i}.a.weight"].shape[0] for i in range(1, 5))
    return widths, state["e1.a.weight"].shape[1] // 4


def has_context(state: dict[str, torch.Tensor]) -> bool:
    """Whether the LineartNet whose state dict this is has a `Context` branch."""
    return "ctx.down.weight" in state


def from_state(state: dict[str, torch.Tensor], n_brushes: int) -> LineartNet:
    """The LineartNet of a checkpoint's state dict, whatever its widths, planes and context,
    quantised where the state is that of a quantised stage."""
    from training import quantize
    widths, planes = shape_of(state)
    model = LineartNet(n_brushes, widths, planes, has_context(state))
    if quantize.is_quantized(state):
        quantize.prepare(model)
    model.load_state_dict(state)
    return model


def grow(state: dict[str, torch.Tensor], model: LineartNet) -> dict[str, torch.Tensor]:
    """`model`'s state dict with a narrower LineartNet's weights embedded, so it computes what
    the narrower one did (a 1-plane one: reading no blue). Added channels keep `model`'s random
    weights from the existing inputs, so they get gradients at once, but whatever reads them
    starts at zero and their FiLM at identity. A skip connection's concatenation and FiLM's
    (gamma, beta) are two groups of channels that grow each on its own. What the smaller one
    lacks altogether keeps `model`'s own: a quantised `model` started from float weights its
    uncalibrated ranges (training/quantize.py), an added `Context` its zero output."""
    modules = dict(model.named_modules())
    out: dict[str, torch.Tensor] = {}
    for name, new in model.state_dict().items():
        if name not in state:
            out[name] = new.clone()
            continue
        old = state[name]
        if old.shape == new.shape:
            out[name] = old.clone()
            continue
        module_name, _, kind = name.rpartition(".")
        module = modules[module_name]
        grown = new.clone()
        index: list[torch.Tensor] = []
        for dim, (o, n) in enumerate(zip(old.shape, new.shape)):
            concat = dim == 1 and module_name.startswith("d") and module_name.endswith(".a")
            groups = 2 if concat or (dim == 0 and module_name.endswith(".film.proj")) else 1
            i = torch.arange(o)
            index.append(i // (o // groups) * (n // groups) + i % (o // groups))
            reads = kind == "weight" and dim == (0 if isinstance(module, nn.ConvTranspose2d) else 1)
            if reads and o != n:  # nothing that existed reads an added channel
                kept = torch.zeros(n, dtype=torch.bool)
                kept[index[-1]] = True
                grown.index_fill_(dim, (~kept).nonzero()[:, 0], 0.0)
        grown[torch.meshgrid(*index, indexing="ij")] = old
        out[name] = grown
    return out
