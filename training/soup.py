"""A stage that averages the shipped weights of stages of one line (a model soup, Wortsman et
al. 2022). Stages that trade one behaviour for another (merging a line's passes against
dropping construction lines) meet in between without more training.

    python -m training.soup --run training/checkpoints/lineart-v50 \
        --of training/checkpoints/lineart-v47/last.pt training/checkpoints/lineart-v49/last.pt

The last checkpoint named is the line's newest; every other must be one of its ancestors (a
stage it was trained from, directly or not), so the model card's stages stay one line: the
stages up to the newest, then this one. The run folder holds a finished last.pt like a trained
stage's: it exports (`training.export`), and a later stage starts from it (`--init`), with the
newest stage's critic.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from training.model import from_state
from training.synth import BRUSHES
from training.train import code_version, shipped_weights, stage_loss, validate, validation_set


def ancestors(checkpoint: Path) -> list[Path]:
    """The run folders a checkpoint's weights were trained from, newest first (its own first)."""
    args = torch.load(checkpoint, weights_only=False)["args"]
    parent = args["of"][-1] if "of" in args else args.get("init")
    earlier = ancestors(Path(parent)) if parent and parent.endswith(".pt") else []
    return [checkpoint.parent.resolve()] + earlier


def average(checkpoints: list[dict]) -> dict[str, torch.Tensor]:
    """The mean of the checkpoints' shipped weights (integer buffers: the newest's)."""
    states = [shipped_weights(c) for c in checkpoints]
    return {k: torch.stack([s[k] for s in states]).mean(0) if v.is_floating_point() else v
            for k, v in states[-1].items()}


def command(args: dict) -> str:
    return f"python -m training.soup --run {args['run']} --of {' '.join(args['of'])}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--of", nargs="+", required=True, metavar="LAST_PT",
                    help="checkpoints of one line, the newest last")
    a = ap.parse_args()
    run, of = Path(a.run), [Path(p) for p in a.of]
    if (run / "last.pt").exists():
        print(f"{run} is finished (an average of {len(of)} stages); nothing to do", flush=True)
        return
    line = ancestors(of[-1])
    strays = [str(p) for p in of[:-1] if p.parent.resolve() not in line]
    if strays:
        raise SystemExit(f"--of: {', '.join(strays)} not among the stages {of[-1]} was trained from")
    checkpoints = [torch.load(p, weights_only=False) for p in of]
    newest = checkpoints[-1]
    weights = average(checkpoints)
    args = newest["args"] | {"run": a.run, "of": a.of}
    val = validate(from_state(weights, len(BRUSHES)), validation_set(64, args["size"]), stage_loss(args))
    state = {"step": 0, "seconds": 0.0, "best": val, "best_step": 0, "since_best": 0, "code": code_version(),
             "hardware": newest["state"].get("hardware")}
    ck = {"model": weights, "state": state, "args": args,
          "ema": {"n_averaged": torch.tensor(1)} | {f"module.{k}": v for k, v in weights.items()}}
    ck |= {k: newest[k] for k in ("critic", "critic_opt") if k in newest}
    run.mkdir(parents=True, exist_ok=True)
    torch.save(ck, run / "last.tmp")
    (run / "last.tmp").replace(run / "last.pt")
    print(f"{run}: the mean of {len(of)} stages' weights, validation loss {val:.4f}", flush=True)


if __name__ == "__main__":
    main()
