"""The recipe of the model being made, as data (`training/recipe.json`), run by make:

    python -m training.recipe train    # every stage in order (resumable; finished ones skipped)
    python -m training.recipe export   # the last stage's weights (training.export.run_weights) -> models/<name>.onnx + card
    python -m training.recipe eval     # metrics into the card; real roughs (../shared) sheet and scores
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = Path(__file__).with_name("recipe.json")
REAL_ROUGHS = [ROOT.parent / "shared" / "real-pencil", ROOT.parent / "shared" / "validation"]


def load() -> dict:
    return json.loads(RECIPE.read_text())


def commands(recipe: dict, step: str) -> list[list[str]]:
    py = [sys.executable, "-m"]
    if step == "train":
        return [py + ["training.soup", "--run", stage["run"], "--of", *stage["average"]] if "average" in stage
                else py + ["training.train"] + [x for k, v in stage.items() for x in (f"--{k}", str(v))]
                for stage in recipe["stages"]]
    if step == "export":
        return [py + ["training.export", "--run", recipe["stages"][-1]["run"], "--name", recipe["name"],
                      "--output-levels", *recipe["output_levels"], "--default-faint", str(recipe["default_faint"])]]
    if step == "eval":
        model = f"models/{recipe['name']}.onnx"
        if not (ROOT / model).exists():
            raise SystemExit(f"{model} is not exported yet: make train, then make export")
        real = [str(f) for f in REAL_ROUGHS if f.is_dir()]  # looked at and scored, never trained on
        return [py + ["training.evaluate", "--model", model, "--card"]] + \
            ([py + ["training.real", "--model", model, "--card", *real]] if real else [])
    raise SystemExit(f"unknown step {step!r}: train, export or eval")


def main() -> None:
    for cmd in commands(load(), sys.argv[1] if len(sys.argv) > 1 else ""):
        print("+", " ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
