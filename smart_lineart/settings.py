"""One run's settings, in one record: the CLI's flags, the docker's controls and Krita's saved
settings all derive from it. Limits that depend on the model (thickness range, presets,
default faint threshold) come from its card; the rest are here. No Qt, no Krita."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from .engine.backends import BACKENDS, DEVICES
from .engine.model_card import ModelCard
from .errors import SettingsError

MEMORY_RANGE_MB = (64.0, float(1 << 20))  # a cap outside this is a typo, not a wish
CLOSE_GAPS_RANGE = (0.0, 64.0)  # px; wider joins lines that were meant apart
# a paint layer of pixels, an editable vector layer of strokes, or the strokes painted with the
# artist's current Krita brush (Krita 5.3+, in a window)
OUTPUTS = ("raster", "vector", "brush")
GROUP = "smart_lineart"  # Krita settings group (kritarc)
_OPTIONAL = ("brush", "faint")  # None: the model's own default


@dataclass(frozen=True)
class Settings:
    thickness: float = 3.0  # line width in output px
    brush: str | None = None  # None: the model's first preset
    faint: float | None = None  # None: the model's default threshold
    backend: str = "auto"
    device: str = "auto"
    max_memory_mb: float = 768.0
    output: str = OUTPUTS[0]
    close_gaps: float = 0.0  # px: stroke ends this close, facing each other, are joined (strokes only); 0: off

    def brush_for(self, card: ModelCard) -> str:
        """The preset to draw with: the chosen one, or the model's first."""
        return self.brush or card.brushes[0]

    def faint_for(self, card: ModelCard) -> float:
        """The faint-line threshold: the chosen one, or the model's default."""
        return card.default_faint if self.faint is None else self.faint

    def check(self, card: ModelCard) -> None:
        lo, hi = card.thickness_range
        if not (math.isfinite(self.thickness) and lo <= self.thickness <= hi):
            raise SettingsError(f"thickness {self.thickness:g} px is outside this model's range {lo:g}-{hi:g} px",
                                "thickness")
        if self.brush is not None and self.brush not in card.brushes:
            raise SettingsError(f"unknown brush {self.brush!r}; this model has: {', '.join(card.brushes)}", "brush")
        if self.faint is not None and not (math.isfinite(self.faint) and 0.0 <= self.faint <= 1.0):
            raise SettingsError(f"faint-line threshold {self.faint:g} is outside 0-1", "faint")
        self.check_runtime()

    def check_runtime(self) -> None:
        """The settings that do not depend on the model."""
        if self.backend not in ("auto",) + BACKENDS:
            raise SettingsError(f"unknown backend {self.backend!r}; choose from: auto, {', '.join(BACKENDS)}", "backend")
        if self.device not in ("auto",) + DEVICES:
            raise SettingsError(f"unknown device {self.device!r}; choose from: auto, {', '.join(DEVICES)}", "device")
        if self.output not in OUTPUTS:
            raise SettingsError(f"unknown output {self.output!r}; choose from: {', '.join(OUTPUTS)}", "output")
        lo, hi = MEMORY_RANGE_MB
        if not (math.isfinite(self.max_memory_mb) and lo <= self.max_memory_mb <= hi):
            raise SettingsError(f"memory cap {self.max_memory_mb:g} MB is outside {lo:.0f}-{hi:.0f} MB",
                                "max_memory_mb")
        lo, hi = CLOSE_GAPS_RANGE
        if not (math.isfinite(self.close_gaps) and lo <= self.close_gaps <= hi):
            raise SettingsError(f"gap closing {self.close_gaps:g} px is outside {lo:g}-{hi:g} px", "close_gaps")

    # Krita's saved settings: strings, with "" for None ------------------------------------
    def to_strings(self) -> dict[str, str]:
        return {f.name: "" if getattr(self, f.name) is None else str(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_strings(cls, read: Callable[[str, str], str]) -> Settings:
        """read(key, default) -> str. A value that does not parse keeps the default."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            default = getattr(DEFAULTS, f.name)
            raw = read(f.name, "" if default is None else str(default))
            kind = float if f.name in ("thickness", "faint", "max_memory_mb", "close_gaps") else str
            try:
                values[f.name] = None if raw == "" and f.name in _OPTIONAL else kind(raw)
            except (TypeError, ValueError):
                pass  # keeps the default
        return cls(**values)

    def save(self, write: Callable[[str, str, str], None]) -> None:
        """write(group, key, value), as Krita.writeSetting."""
        for k, v in self.to_strings().items():
            write(GROUP, k, v)

    @classmethod
    def load(cls, read: Callable[[str, str, str], str]) -> Settings:
        """read(group, key, default), as Krita.readSetting."""
        return cls.from_strings(lambda key, default: read(GROUP, key, default))


DEFAULTS = Settings()
