"""Model cards: what the engine needs to know of a model (`models/<name>.onnx` + `<name>.json`)."""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelError

DEFAULT_MODEL = "lineart-v52"
# The default model trained on in int8: where OpenVINO computes f32 on the CPU (no native bf16,
# most laptops) it runs 2x faster than the default; with native bf16, slower (README: Speed)
DEFAULT_INT8_MODEL = "lineart-v58"


@dataclass(frozen=True)
class ModelCard:
    path: Path
    name: str
    brushes: tuple[str, ...]
    thickness_range: tuple[float, float]  # what the engine accepts
    network_thickness_range: tuple[float, float]  # what the network draws at full size
    receptive_field: int
    size_multiple: int
    bytes_per_pixel: float  # measured peak activation memory per input pixel, the worst runtime
    default_faint: float
    planes: int  # image planes the network takes: 1 grey; 2 grey and the light blue dropped out
    raw: dict = field(repr=False, compare=False, hash=False)  # the whole card as read
    # output levels (black point, white point) per brush, applied after the network: chosen at
    # export by measurement (training/evaluate.py --levels); missing = (0, 1), as drawn
    output_levels: dict[str, tuple[float, float]] = field(default_factory=dict, hash=False)

    def tile_memory(self, runtime: str) -> tuple[float, float]:
        """(bytes per tile pixel, MB per run beyond that) of one runtime ("openvino/f32", ...):
        as measured for it at export, else the worst runtime's figure and no overhead."""
        def measured(key: str, default: float) -> float:
            table = self.raw.get(key, {})
            value = table.get(runtime) if isinstance(table, dict) else None
            return float(value) if isinstance(value, (int, float)) and value >= 0 else default
        return measured("bytes_per_pixel_by_runtime", self.bytes_per_pixel), measured("tile_overhead_mb_by_runtime", 0.0)

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
    package = Path(__file__).resolve().parent.parent
    inside = package / "models"
    return inside if inside.is_dir() else package.parent / "models"


def available_models() -> list[Path]:
    d = models_dir()
    return sorted(p for p in d.glob("*.onnx") if p.with_suffix(".json").exists()) if d.is_dir() else []


def load_card(path: str | os.PathLike | None = None) -> ModelCard:
    p = Path(path) if path else models_dir() / f"{DEFAULT_MODEL}.onnx"
    if not p.is_file():
        raise ModelError(f"model file not found: {p}")
    card_path = p.with_suffix(".json")
    if not card_path.is_file():
        raise ModelError(f"model card not found beside the model: {card_path}")
    try:
        raw = json.loads(card_path.read_text())
        card = ModelCard(
            path=p, name=str(raw.get("name", p.stem)), brushes=tuple(str(b) for b in raw["brushes"]),
            thickness_range=_pair(raw["thickness_range"]),
            network_thickness_range=_pair(raw.get("network_thickness_range", raw["thickness_range"])),
            receptive_field=int(raw["receptive_field"]), size_multiple=int(raw["size_multiple"]),
            bytes_per_pixel=float(raw["bytes_per_pixel"]), default_faint=float(raw["default_faint"]),
            planes=int(raw.get("image_planes", 1)), raw=raw,
            output_levels={b: _pair(lv) for b, lv in raw.get("output_levels", {}).items()})
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, UnicodeDecodeError) as e:
        raise ModelError(f"model card {card_path} is unusable: {e.__class__.__name__}: {e}".splitlines()[0]) from e
    problem = _problem(card)
    if problem:
        raise ModelError(f"model card {card_path} is unusable: {problem}")
    return card


def _problem(c: ModelCard) -> str:
    """What makes a parsed card unusable by the engine, or ''."""
    finite = lambda *v: all(math.isfinite(x) for x in v)  # noqa: E731
    if not c.brushes or len(set(c.brushes)) < len(c.brushes) or not all(c.brushes):
        return "it needs a list of distinct, named brushes"
    lo, hi = c.thickness_range
    nlo, nhi = c.network_thickness_range
    if not (finite(lo, hi, nlo, nhi) and 0 < lo <= hi and 0 < nlo <= nhi):
        return "its thickness ranges must be positive [min, max]"
    if c.size_multiple < 1 or c.receptive_field < 1:
        return "size_multiple and receptive_field must be positive"
    if not (finite(c.bytes_per_pixel) and c.bytes_per_pixel > 0):
        return "bytes_per_pixel must be positive"
    if not (finite(c.default_faint) and 0 <= c.default_faint <= 1):
        return "default_faint must be in 0-1"
    if c.planes not in (1, 2):
        return "image_planes must be 1 or 2"
    for b, (black, white) in c.output_levels.items():
        if not (finite(black, white) and 0 <= black < white <= 1):
            return f"output levels of {b!r} must be 0 <= black < white <= 1"
    return ""


def is_default(card: ModelCard) -> bool:
    """`card` is the default model's, as shipped: a copy with other output levels or thresholds
    (a measurement of them) is another model's card."""
    path = models_dir() / f"{DEFAULT_MODEL}.onnx"
    return card.path.resolve() == path.resolve() and card == load_card(path)


def int8_default() -> ModelCard | None:
    """The default model's int8 version, where it is installed."""
    path = models_dir() / f"{DEFAULT_INT8_MODEL}.onnx"
    return load_card(path) if path.is_file() and path.with_suffix(".json").is_file() else None
