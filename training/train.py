"""Train the lineart network on synthetic pairs, on the CPU, resumably.

    python -m training.train --run runs/lineart-v2 --minutes 95
    python -m training.train --run runs/lineart-v4 --init runs/lineart-v3/best.pt --minutes 70 --seed 3 --lr 6e-4 --mark-weight 4

Pairs are synthesised on the fly in worker processes (seeded per worker and per resume
point, so a run is reproducible from its seed). The run folder holds `last.pt` (resume
point, written every few minutes), `best.pt` (lowest validation loss; not with `--ema`) and `log.jsonl`.
Stops at the time budget or when the validation loss has not improved for `--patience`
validations. Re-running the same command resumes. `--init` starts a new run from another
run's weights (fresh optimiser and learning-rate schedule): a second, lower-rate stage.
`--adv-weight` adds the adversarial term (training/critic.py; its critic is saved in the
checkpoints too), grown from 0 over a run's first ADV_RAMP steps while a new critic learns
(a stage started from an adversarial stage's checkpoint takes its critic, trained, at full
weight). `--ema` keeps an exponential moving average of the weights, validated and exported
instead of the raw weights: an adversarial stage's weights oscillate (lineart-v15's checks
flipped from one checkpoint to the next), and the per-pixel validation loss does not rank its
checkpoints, so such a stage ships the average of its last weights, not `best.pt`.
`--shift 1` lets each block of the output match the target a pixel off (see loss_fn).
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from training import quantize
from training.critic import Critic, critic_loss, passing_loss, window
from training.figures import Shares
from training.model import WIDTHS, LineartNet, conditions, grow
from training.synth import BRUSHES, make_pair

VAL_SEED = 1_000_003  # validation pairs never share a seed with training pairs
CALIBRATION_SEED = 1_000_033  # nor do the pairs that calibrate a quantised stage's ranges
CALIBRATION_PAIRS = 64
ADV_RAMP = 400  # steps over which the adversarial term grows from 0: an untrained critic's verdict is noise


def adversarial_share(step: int, ramp: int = ADV_RAMP) -> float:
    """How much of `--adv-weight` applies at a run's step: 0 at its start, all from `ramp` steps
    on (ramp 0: a critic trained in an earlier stage, all at once)."""
    return min(1.0, step / ramp) if ramp else 1.0


def shipped_weights(checkpoint: dict) -> dict[str, torch.Tensor]:
    """The network weights a checkpoint ships: the moving average where the stage kept one."""
    if "ema" not in checkpoint:
        return checkpoint["model"]
    return {k.removeprefix("module."): v for k, v in checkpoint["ema"].items() if k != "n_averaged"}


def _blue_plane(p) -> np.ndarray:
    """The blue plane as the engine feeds a 2-plane network: uint8 / 255, zeros for none."""
    return np.zeros_like(p.net_input) if p.blue is None else p.blue.astype(np.float32) / 255


def to_tensors(pairs) -> tuple[torch.Tensor, ...]:
    x = torch.from_numpy(np.stack([np.stack([p.net_input, _blue_plane(p)]) for p in pairs]))  # a 1-plane model reads the first
    y = torch.from_numpy(np.stack([p.target for p in pairs]))[:, None]
    th = torch.tensor([[p.thickness] for p in pairs], dtype=torch.float32)
    br = torch.eye(len(BRUSHES))[[p.brush for p in pairs]]
    fa = torch.tensor([[p.faint] for p in pairs], dtype=torch.float32)
    return x, y, th, br, fa


# Symmetries that keep every preset's look: the brush pen's angled nib is symmetric under a
# half turn and under the transposes, but not under a quarter turn or a mirror.
_TRANSFORMS = (lambda a: a[::-1, ::-1], lambda a: a.T, lambda a: a[::-1, ::-1].T)


class SyntheticPairs(IterableDataset):
    def __init__(self, seed: int, start_step: int, size: int, reuse: int = 2, shares: Shares = Shares()):
        self.seed, self.start_step, self.size, self.reuse, self.shares = seed, start_step, size, reuse, shares

    def __iter__(self):
        info = get_worker_info()
        wid = info.id if info else 0
        rng = np.random.default_rng([self.seed, self.start_step, wid])
        while True:
            p = make_pair(rng, self.size, shares=self.shares)
            yield to_tensors([p])
            for _ in range(self.reuse - 1):
                f = _TRANSFORMS[rng.integers(len(_TRANSFORMS))]
                p.net_input, p.target = np.ascontiguousarray(f(p.net_input)), np.ascontiguousarray(f(p.target))
                p.blue = None if p.blue is None else np.ascontiguousarray(f(p.blue))
                yield to_tensors([p])


def _collate(items):
    return tuple(torch.cat(t) for t in zip(*items))


SHIFT_BLOCK = 8  # px: with --shift, each block this size is compared at its own best shift


def _shifted(z: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """z moved by (dy, dx) px, edges repeated."""
    if not (dy or dx):
        return z
    r = max(abs(dy), abs(dx))
    pad = F.pad(z, (r, r, r, r), mode="replicate")
    h, w = z.shape[-2:]
    return pad[..., r - dy:r - dy + h, r - dx:r - dx + w]


def loss_fn(z: torch.Tensor, target: torch.Tensor, image: torch.Tensor, mark_weight: float = 0.0,
            gap_weight: float = 0.0, ghost_weight: float = 0.0, unmarked_weight: float = 0.0,
            shift: int = 0) -> torch.Tensor:
    """On logits z. Cross-entropy keeps a gradient where the sigmoid saturates (pure L1 through
    a sigmoid collapses to an all-white page); L1 pulls uncertain pixels to a side instead of
    grey. A band of 2 px around the target's lines is weighted up, so the thin lines (a few %
    of the page) are not drowned out; the band covers both sides of every edge, so a pixel too
    many costs as much as a pixel too few (weighting only ink pixels made lines fat).
    `mark_weight` also weights up sketch marks away from that band (construction lines, stray
    passes): at weight 1 keeping one was 5x cheaper than a pixel's error at a line, and kept
    construction lines were 60% of lineart-v3's false ink.
    `gap_weight` weights up the paper between two of the target's lines closer than 7 px (and in
    tight inside corners and acute crossings; 1-6% of a drawing, about as much as its ink), which
    at the band's weight was cheap to fill: at 8 (lineart-v7c) the outputs kept 0.73 of it open,
    lineart-v5 0.63.
    `ghost_weight` weights up sketch marks 3-8 px beside a target line (a lighter pass the
    inker did not trace): drawn as a second line they cost what merging two close lines costs
    under `gap_weight`, so a network unsure between one line and two does not lean to two.
    `unmarked_weight` weights up the target's ink where the sketch has no mark within a pixel:
    the line an inker draws between a bundle's passes or across a break. Beside the ghost
    weight, drawing on a pass there cost 7x what leaving the line out cost: the likely reason
    the network leaves gaps where it is unsure which pass it sees (girl.png's hair at 2 px).
    `shift` compares each SHIFT_BLOCK-px block of the output with the target at its best
    shift up, down, left or right by up to `shift` px (or none): a solid line one pixel off the target
    costs about nothing, where exactly it cost 4x a grey band over both places (0.81 vs 0.21
    in the test), so where the line's place is unsure by a pixel (a bundle's middle) the
    network no longer hedges with grey. Fattening and merging still cost: one shift per block."""
    ink = (target < 0.5).float()
    near = F.max_pool2d(ink, kernel_size=5, stride=1, padding=2)
    w = 1.0 + 4.0 * near
    if mark_weight or ghost_weight or unmarked_weight:
        marks = F.max_pool2d((image[:, :1] < 0.9).float(), kernel_size=3, stride=1, padding=1)
    if mark_weight:
        w = w + mark_weight * marks * (1.0 - near)
    if ghost_weight:
        beside = F.max_pool2d(ink, kernel_size=17, stride=1, padding=8) * (1.0 - near)
        w = w + ghost_weight * marks * beside
    if unmarked_weight:
        w = w + unmarked_weight * ink * (1.0 - marks)
    if gap_weight:
        closed = 1.0 - F.max_pool2d(1.0 - F.max_pool2d(ink, kernel_size=7, stride=1, padding=3),
                                    kernel_size=7, stride=1, padding=3)
        w = w + gap_weight * closed * (1.0 - ink)
    def per_pixel(zs: torch.Tensor) -> torch.Tensor:
        return w * (F.binary_cross_entropy_with_logits(zs, target, reduction="none") + (torch.sigmoid(zs) - target).abs())

    if not shift:
        return per_pixel(z).sum() / w.sum()
    blocks = torch.stack([F.avg_pool2d(per_pixel(_shifted(z, dy, dx)), SHIFT_BLOCK, ceil_mode=True)
                          for k in range(-shift, shift + 1) for dy, dx in ((k, 0), (0, k)) if k or not dy])
    return blocks.amin(0).sum() * SHIFT_BLOCK ** 2 / w.sum()


def validation_set(n: int, size: int, seed: int = VAL_SEED) -> list[tuple[torch.Tensor, ...]]:
    rng = np.random.default_rng(seed)
    pairs = [make_pair(rng, size, brush=i % len(BRUSHES)) for i in range(n)]
    return [to_tensors(pairs[i:i + 8]) for i in range(0, n, 8)]


@torch.no_grad()
def validate(model: torch.nn.Module, batches, loss: Callable[..., torch.Tensor]) -> float:
    """Mean loss over the batches; loss: loss_fn with the run's options."""
    model.eval()
    total = 0.0
    for x, y, th, br, fa in batches:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=native_bf16()):
            total += float(loss(model(x, th, br, fa, logits=True).float(), y, x))
    model.train()
    return total / len(batches)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="run folder (created; resumed if it has last.pt)")
    ap.add_argument("--minutes", type=float, default=60, help="training time budget, summed over resumes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-every", type=int, default=300, help="steps between validations")
    ap.add_argument("--patience", type=int, default=6, help="validations without improvement before stopping")
    ap.add_argument("--init", help="checkpoint (.pt) or shipped model (.onnx) whose weights a new run starts from")
    ap.add_argument("--mark-weight", type=float, default=0.0,
                    help="extra loss weight on sketch marks that are not lineart (see loss_fn)")
    ap.add_argument("--gap-weight", type=float, default=0.0,
                    help="extra loss weight on the paper between close lines of the target (see loss_fn)")
    ap.add_argument("--ghost-weight", type=float, default=0.0,
                    help="extra loss weight on sketch marks beside the target's lines (see loss_fn)")
    ap.add_argument("--unmarked-weight", type=float, default=0.0,
                    help="extra loss weight on the target's lines where the sketch has no mark (see loss_fn)")
    ap.add_argument("--shift", type=int, default=0,
                    help="px: compare the output with the target at its best shift per block, up to this (see loss_fn)")
    ap.add_argument("--adv-weight", type=float, default=0.0,
                    help="weight of the adversarial term (training/critic.py); 0: none")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="decay of a moving average of the weights, validated and exported (e.g. 0.9995); 0: none")
    ap.add_argument("--stop-after", type=float,
                    help="end the stage after this many minutes (default: --minutes); the learning-rate "
                         "schedule still spans --minutes, so a stage cut short stays reproducible")
    ap.add_argument("--planes", type=int, choices=(1, 2), default=1,
                    help="image planes the network takes: 1 grey; 2 also the light blue the drop-out removed")
    ap.add_argument("--widths", default=",".join(map(str, WIDTHS)),
                    help="channels at 1/2, 1/4, 1/8, 1/16 resolution; a narrower --init grows into them")
    ap.add_argument("--context", type=int, choices=(0, 1), default=0,
                    help="1: a context branch at 1/32 resolution (training.model.Context); an --init without "
                         "one starts it at zero")
    ap.add_argument("--quantize", choices=quantize.MODES,
                    help="train the inner convolutions as they run in int8 (training/quantize.py); ranges "
                         "calibrated once at the stage's start, unless --init is quantised already")
    ap.add_argument("--distil-weight", type=float, default=0.0,
                    help="also pull the output toward that of the --init model as it ships (its moving average), "
                         "this much against the target's weight: a stage that trains it on in int8 keeps its ways")
    for f in fields(Shares):  # validation keeps the default synthesiser (all 0)
        ap.add_argument(f"--{f.name}-share", type=float, default=f.default, help=f.metadata["help"])
    return ap


def command(args: dict) -> str:
    """The command line that gives these arguments: run and seed, then whatever differs from
    the defaults (so a model card's recipe stays short and exact)."""
    defaults = vars(parser().parse_args(["--run", args["run"]]))
    flags = [f"--run {args['run']}", f"--seed {args['seed']}"]
    flags += [f"--{k.replace('_', '-')} {v:g}" if isinstance(v, float) else f"--{k.replace('_', '-')} {v}"
              for k, v in args.items() if k not in ("run", "seed") and v != defaults[k]]
    return "python -m training.train " + " ".join(flags)


@functools.cache
def native_bf16() -> bool:
    """Train in bf16 where the CPU computes it natively (AVX-512 BF16, AMX): there it is ~1.5x
    faster than fp32; emulated (e.g. on AVX2 only) it is ~30x slower."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def stage_loss(args: dict) -> Callable[..., torch.Tensor]:
    """loss_fn with a stage's loss weights (its parsed arguments, as a checkpoint keeps them)."""
    return functools.partial(loss_fn, mark_weight=args["mark_weight"], gap_weight=args["gap_weight"],
                             ghost_weight=args["ghost_weight"], unmarked_weight=args["unmarked_weight"],
                             shift=args["shift"])


def code_version() -> str:
    """The commit whose training/ code a stage runs (a model card names it for each stage); run
    folders (checkpoints, eval cards) are not code."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=Path(__file__).parent).stdout.strip()
    head = git("rev-parse", "HEAD")
    return head + ("+uncommitted" if head and git("status", "--porcelain", "--", ".", ":!checkpoints") else "") or "unknown"


def initial_weights(path: str, model: LineartNet, shipped: bool = False) -> dict[str, torch.Tensor]:
    """Weights to start a stage from: a run's checkpoint (its training weights; `shipped`: the
    moving average it ships where it kept one), or a shipped .onnx model (its initializers
    carry the state-dict names, so a stage can continue from a released model). A narrower or
    1-plane model's weights start a wider or 2-plane one as the model it came from (`grow`)."""
    if path.endswith(".onnx"):
        import onnx
        from onnx import numpy_helper
        weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in onnx.load(path).graph.initializer}
    else:
        checkpoint = torch.load(path, weights_only=False)
        weights = shipped_weights(checkpoint) if shipped else checkpoint["model"]
    return grow(weights, model)


def _finished(state: dict, a: argparse.Namespace) -> bool:
    return state["seconds"] >= (a.stop_after or a.minutes) * 60 or state["since_best"] >= a.patience


def main() -> None:
    a = parser().parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    run = Path(a.run)
    run.mkdir(parents=True, exist_ok=True)
    widths = tuple(int(w) for w in a.widths.split(","))
    model = LineartNet(len(BRUSHES), widths, a.planes, bool(a.context))
    if a.quantize:
        quantize.prepare(model)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    critic = Critic(len(BRUSHES) + 2) if a.adv_weight else None
    critic_opt = torch.optim.Adam(critic.parameters(), lr=a.lr, betas=(0.5, 0.999)) if critic else None
    hardware = f"{os.cpu_count()}-core CPU, {'bf16 autocast' if native_bf16() else 'fp32'}"
    state: dict[str, Any] = {"step": 0, "seconds": 0.0, "best": math.inf, "since_best": 0, "code": code_version(),
                             "hardware": hardware}
    ck = torch.load(run / "last.pt", weights_only=False) if (run / "last.pt").exists() else None
    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        if critic is not None and critic_opt is not None and "critic" in ck:
            critic.load_state_dict(ck["critic"])
            critic_opt.load_state_dict(ck["critic_opt"])
        state = ck["state"]
        ran = state.get("hardware", "")
        if ran.split("; ")[-1].split(" from step ")[0] != hardware:  # sessions differ: the card says what ran when
            state["hardware"] = f"{ran}; {hardware} from step {state['step']}"
        print(f"resumed at step {state['step']} ({state['seconds'] / 60:.1f} min) on a {hardware}", flush=True)
    elif a.init:
        model.load_state_dict(initial_weights(a.init, model))
        print(f"starting from the weights in {a.init}", flush=True)
        if critic is not None and a.init.endswith(".pt"):
            earlier = torch.load(a.init, weights_only=False)
            if "critic" in earlier:  # its verdicts are informed from the first step: no ramp
                critic.load_state_dict(earlier["critic"])
                state["ramp"] = 0
                print("and the critic trained with them", flush=True)
    if a.quantize and not quantize.is_calibrated(model):
        quantize.calibrate(model, validation_set(CALIBRATION_PAIRS, a.size, CALIBRATION_SEED))
        print(f"calibrated the int8 ranges of {len(quantize.layers(model))} layers", flush=True)
    # the average starts at the first step's weights (n_averaged 0), or resumes with its count
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(a.ema), use_buffers=True) if a.ema else None
    if ema is not None and ck is not None and "ema" in ck:
        ema.load_state_dict(ck["ema"])
    if _finished(state, a):
        print(f"{run} is finished (step {state['step']}); nothing to do", flush=True)
        return
    (run / "args.json").write_text(json.dumps(vars(a), indent=1))

    val = validation_set(64, a.size)
    loss_of = stage_loss(vars(a))
    teacher = None
    if a.distil_weight:  # the init model in float, as it ships: what the stage should stay close to
        teacher = LineartNet(len(BRUSHES), widths, a.planes, bool(a.context)).eval().requires_grad_(False)
        teacher.load_state_dict(initial_weights(a.init, teacher, shipped=True))
    shares = Shares(**{f.name: getattr(a, f"{f.name}_share") for f in fields(Shares)})
    pairs = SyntheticPairs(a.seed, state["step"], a.size, shares=shares)
    loader = DataLoader(pairs, batch_size=a.batch,
                        num_workers=a.workers, collate_fn=_collate, prefetch_factor=4 if a.workers else None,
                        persistent_workers=False)
    log = (run / "log.jsonl").open("a")
    t_last, t_save = time.time(), time.time()
    running: list[float] = []
    adversarial: list[tuple[float, float]] = []  # (critic loss, network's passing loss) per step

    def save(name: str) -> None:
        ck = {"model": model.state_dict(), "opt": opt.state_dict(), "state": state, "args": vars(a)}
        if critic is not None and critic_opt is not None:
            ck |= {"critic": critic.state_dict(), "critic_opt": critic_opt.state_dict()}
        if ema is not None:
            ck["ema"] = ema.state_dict()
        torch.save(ck, run / f"{name}.tmp")
        (run / f"{name}.tmp").replace(run / name)

    def validation() -> None:
        v = validate(model if ema is None else ema.module, val, loss_of)
        if v < state["best"]:
            state["best"], state["since_best"], state["best_step"] = v, 0, state["step"]
            if ema is None:  # a moving-average stage ships its last average: no second 28 MB file
                save("best.pt")
        else:
            state["since_best"] += 1
        rec = {"step": state["step"], "minutes": round(state["seconds"] / 60, 2),
               "train": float(np.mean(running)) if running else None, "val": v, "lr": opt.param_groups[0]["lr"]}
        if adversarial:
            rec |= {"critic": float(np.mean([c for c, _ in adversarial])),
                    "passing": float(np.mean([p for _, p in adversarial]))}
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(rec, flush=True)
        running.clear()
        adversarial.clear()

    for x, y, th, br, fa in loader:
        # cosine decay over the whole budget, with a short warm-up
        frac = min(state["seconds"] / (a.minutes * 60), 1.0)
        for g in opt.param_groups + (critic_opt.param_groups if critic_opt else []):
            g["lr"] = a.lr * min(1.0, (state["step"] + 1) / 200) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=native_bf16()):
            z = model(x, th, br, fa, logits=True)
        loss = pixel = loss_of(z.float(), y, x)
        if teacher is not None:
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=native_bf16()):
                taught = torch.sigmoid(teacher(x, th, br, fa, logits=True).float())
            loss = loss + a.distil_weight * loss_of(z.float(), taught, x)
        if critic is not None and critic_opt is not None:
            sketch, fake, real = window(1.0 - x[:, :1], 1.0 - torch.sigmoid(z.float()), 1.0 - y)
            cond = conditions(th, br, fa)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=native_bf16()):
                c_loss = critic_loss(critic, sketch, real, fake, cond).float()
            critic_opt.zero_grad(set_to_none=True)
            c_loss.backward()
            critic_opt.step()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=native_bf16()):
                p_loss = passing_loss(critic, sketch, fake, cond).float()
            loss = loss + a.adv_weight * adversarial_share(state["step"], state.get("ramp", ADV_RAMP)) * p_loss
            adversarial.append((c_loss.item(), p_loss.item()))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if ema is not None:
            ema.update_parameters(model)
        now = time.time()
        state["seconds"] += now - t_last
        t_last = now
        state["step"] += 1
        running.append(pixel.item())
        if state["step"] % a.val_every == 0:
            validation()
            t_last = time.time()  # validation time is not training time
        if now - t_save > 180:
            save("last.pt")
            t_save = now
        if _finished(state, a):
            break
    if "best_step" not in state and not (run / "best.pt").exists():  # stopped before its first validation
        validation()
    save("last.pt")
    print(f"stopped at step {state['step']} after {state['seconds'] / 60:.1f} min; best val {state['best']:.4f}", flush=True)


if __name__ == "__main__":
    main()
