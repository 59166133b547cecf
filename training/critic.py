"""The adversarial term (as in Simo-Serra et al. 2018, "Mastering Sketching"): a small patch
critic learns to tell the target lineart from the network's, given the sketch and the
conditions, and the network is trained to pass it.

Where the sketch is ambiguous (two lines 4-6 px apart: two passes of one line, or two intended
lines?) a per-pixel loss is lowest for a grey hedge between the answers: one grey band or two
grey lines. No inker draws that, so the critic finds it at once; passing the critic means
committing to solid lines. Least-squares GAN losses (stable with a small critic, no sigmoid
saturation). Used only in training; the shipped network is unchanged in shape and cost.
"""
from __future__ import annotations

import torch
from torch import nn

WIDTHS = (32, 64, 96)
CROP = 128  # px: the critic judges one random window per batch (its view is ~70 px); on the whole
# 256 px patch it cost as much as the network's own step


class Critic(nn.Module):
    """Patch critic on (sketch ink, lineart ink) folded 2x2, with the conditions as constant
    planes (a pencil preset's grey or a 6 px line is real only for that request). One logit
    per 8x8 px; its view is about 70 px, enough to see a pair of lines and where they meet."""

    def __init__(self, n_cond: int, widths: tuple[int, ...] = WIDTHS):
        super().__init__()
        c1, c2, c3 = widths
        self.fold = nn.PixelUnshuffle(2)
        act = lambda: nn.LeakyReLU(0.2, inplace=True)  # noqa: E731
        self.net = nn.Sequential(
            nn.Conv2d(8 + n_cond, c1, 3, 1, 1), act(),
            nn.Conv2d(c1, c2, 4, 2, 1), act(),
            nn.Conv2d(c2, c3, 4, 2, 1), act(),
            nn.Conv2d(c3, c3, 3, 1, 2, dilation=2), act(),
            nn.Conv2d(c3, 1, 3, 1, 1))

    def forward(self, sketch_ink: torch.Tensor, lineart_ink: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """(N,1,H,W) darkness 0..1 each, (N,C) conditions -> (N,1,H/8,W/8) logits (real > 0)."""
        x = self.fold(torch.cat([sketch_ink, lineart_ink], 1))
        planes = cond[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return self.net(torch.cat([x, planes], 1))


def critic_loss(critic: Critic, sketch_ink: torch.Tensor, real_ink: torch.Tensor, fake_ink: torch.Tensor,
                cond: torch.Tensor) -> torch.Tensor:
    """The critic's least-squares loss: targets real 1, the network's 0 (fake_ink detached)."""
    real = critic(sketch_ink, real_ink, cond)
    fake = critic(sketch_ink, fake_ink.detach(), cond)
    return 0.5 * (((real - 1) ** 2).mean() + (fake ** 2).mean())


def passing_loss(critic: Critic, sketch_ink: torch.Tensor, fake_ink: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
    """The network's adversarial loss: how far the critic is from calling its lineart real."""
    return 0.5 * ((critic(sketch_ink, fake_ink, cond) - 1) ** 2).mean()


def window(*images: torch.Tensor, size: int = CROP) -> tuple[torch.Tensor, ...]:
    """The same random size x size window of each (N,C,H,W) image (torch's generator: seeded runs repeat)."""
    h, w = images[0].shape[2:]
    y, x = (int(torch.randint(0, max(n - size, 0) + 1, ())) for n in (h, w))
    return tuple(im[:, :, y:y + size, x:x + size] for im in images)
