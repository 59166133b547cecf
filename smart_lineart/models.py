"""Shipped models and their cards (`models/<name>.onnx` + `models/<name>.json`)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MODEL = "lineart-v4"


class ModelError(Exception):
    """A model file or card that is missing or unusable (a user error, not a crash)."""


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    name: str
    brushes: tuple[str, ...]
    thickness_range: tuple[float, float]  # what the engine accepts
    network_thickness_range: tuple[float, float]  # what the network draws at full size
    receptive_field: int
    size_multiple: int
    bytes_per_pixel: float  # measured peak activation memory per input pixel
    default_faint: float
    card: dict = field(repr=False, compare=False, hash=False)
    # output levels (black point, white point) per brush, applied after the network: chosen at
    # export by measurement (training/evaluate.py --levels); missing = (0, 1), as drawn
    output_levels: dict[str, tuple[float, float]] = field(default_factory=dict, compare=False, hash=False)

    def levels(self, brush: str) -> tuple[float, float]:
        return self.output_levels.get(brush, (0.0, 1.0))

    @property
    def margin(self) -> int:
        """Context each tile needs on every side: half the receptive field, rounded up to the
        size multiple so tile origins stay on the network's downsampling grid."""
        return tile_margin(self.receptive_field, self.size_multiple)


def tile_margin(receptive_field: int, size_multiple: int) -> int:
    m = size_multiple
    return -(-(receptive_field // 2 + 1) // m) * m


def _pair(v) -> tuple[float, float]:
    return float(v[0]), float(v[1])


def models_dir() -> Path:
    """SMART_LINEART_MODELS, else `models/` inside the installed plugin, else the checkout's."""
    env = os.environ.get("SMART_LINEART_MODELS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    inside = here / "models"
    return inside if inside.is_dir() else here.parent / "models"


def available_models() -> list[Path]:
    d = models_dir()
    return sorted(p for p in d.glob("*.onnx") if p.with_suffix(".json").exists()) if d.is_dir() else []


def load_model_info(path: str | os.PathLike | None = None) -> ModelInfo:
    p = Path(path) if path else models_dir() / f"{DEFAULT_MODEL}.onnx"
    if not p.is_file():
        raise ModelError(f"model file not found: {p}")
    card_path = p.with_suffix(".json")
    if not card_path.is_file():
        raise ModelError(f"model card not found beside the model: {card_path}")
    try:
        card = json.loads(card_path.read_text())
        return ModelInfo(
            path=p, name=card.get("name", p.stem), brushes=tuple(card["brushes"]),
            thickness_range=_pair(card["thickness_range"]),
            network_thickness_range=_pair(card.get("network_thickness_range", card["thickness_range"])),
            receptive_field=int(card["receptive_field"]), size_multiple=int(card["size_multiple"]),
            bytes_per_pixel=float(card["bytes_per_pixel"]), default_faint=float(card["default_faint"]), card=card,
            output_levels={b: _pair(lv) for b, lv in card.get("output_levels", {}).items()})
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        raise ModelError(f"model card {card_path} is unusable: {e}") from e
