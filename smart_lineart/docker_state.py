"""The docker's state without Qt: persisted settings, backend choices, preview window."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from . import backends

GROUP = "smart_lineart"  # Krita settings group (kritarc)
PREVIEW_SIZE = 384


@dataclass
class DockerSettings:
    thickness: float = 3.0
    faint: float = -1.0  # < 0: the model's default
    brush: str = ""  # "": the model's first preset
    backend: str = "auto"
    device: str = "auto"
    max_memory_mb: int = 768

    @classmethod
    def load(cls, read) -> "DockerSettings":
        """read(group, key, default) -> str, as Krita.readSetting. Bad values fall back."""
        s = cls()
        for f in fields(cls):
            raw = read(GROUP, f.name, str(getattr(s, f.name)))
            try:
                setattr(s, f.name, type(getattr(s, f.name))(raw))
            except (TypeError, ValueError):
                pass
        return s

    def save(self, write) -> None:
        """write(group, key, value: str), as Krita.writeSetting."""
        for k, v in asdict(self).items():
            write(GROUP, k, str(v))


def backend_choices() -> list[tuple[str, str, str, bool]]:
    """(label, backend, device, available) for the device menu; 'auto' first."""
    b, d = backends.choose()
    out = [(f"Auto ({_label(b)} · {d})", "auto", "auto", True)]
    installed = backends.installed_backends()
    for backend in backends.BACKENDS:
        for device in backends.DEVICES:
            ok = backend in installed and device in backends.devices(backend)
            out.append((f"{_label(backend)} · {device}", backend, device, ok))
    return out


def _label(backend: str) -> str:
    return {"openvino": "OpenVINO", "onnxruntime": "ONNX Runtime"}.get(backend, backend)


def preview_window(centre: tuple[float, float], doc_size: tuple[int, int],
                   size: int = PREVIEW_SIZE) -> tuple[int, int, int, int]:
    """A size x size window (x, y, w, h) around `centre`, moved inside the document."""
    w, h = min(size, doc_size[0]), min(size, doc_size[1])
    x = int(min(max(centre[0] - w / 2, 0), doc_size[0] - w))
    y = int(min(max(centre[1] - h / 2, 0), doc_size[1] - h))
    return x, y, w, h
