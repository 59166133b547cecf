"""Inference backends: OpenVINO and ONNX Runtime behind one small interface.

A backend is compiled once per (model, backend, device) and kept for the life of the process;
every tile of every image reuses it.
"""
from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import BackendError

BACKENDS = ("openvino", "onnxruntime")
DEVICES = ("CPU", "GPU", "NPU")

# ONNX Runtime execution providers that count as a GPU, by platform
_ORT_GPU = ("CUDAExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider", "ROCMExecutionProvider")


class Runner(Protocol):
    name: str
    device: str

    def run(self, image: np.ndarray, cond: dict[str, np.ndarray]) -> np.ndarray:
        """image (1,1,H,W) float32 -> (1,1,H,W) float32; cond: thickness, brush, faint."""


def installed_backends() -> list[str]:
    return [b for b in BACKENDS if importlib.util.find_spec(b) is not None]


@functools.cache
def devices(backend: str) -> tuple[str, ...]:
    """Devices this backend can use on this machine (CPU always)."""
    if backend == "openvino":
        import openvino as ov
        found = {d.split(".")[0] for d in ov.Core().available_devices}
        return tuple(d for d in DEVICES if d in found or d == "CPU")
    if backend == "onnxruntime":
        import onnxruntime as ort
        gpu = any(p in ort.get_available_providers() for p in _ORT_GPU)
        return ("CPU", "GPU") if gpu else ("CPU",)
    raise BackendError(f"unknown backend {backend!r}; choose from: auto, {', '.join(BACKENDS)}")


def choose(backend: str = "auto", device: str = "auto") -> tuple[str, str]:
    """Resolve 'auto': an accelerator if one is present, else the CPU with OpenVINO, which runs
    this network several times faster than ONNX Runtime here (see the README's benchmark)."""
    names = installed_backends()
    if not names:
        raise BackendError("neither openvino nor onnxruntime is installed")
    if backend != "auto" and backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}; choose from: auto, {', '.join(BACKENDS)}")
    if device != "auto" and device not in DEVICES:
        raise BackendError(f"unknown device {device!r}; choose from: auto, {', '.join(DEVICES)}")
    candidates = names if backend == "auto" else [backend]
    if backend != "auto" and backend not in names:
        raise BackendError(f"backend {backend} is not installed")
    wanted = ("GPU", "NPU", "CPU") if device == "auto" else (device,)
    for dev in wanted:
        for b in candidates:
            if dev in devices(b):
                return b, dev
    raise BackendError(f"device {device} is not available with {' or '.join(candidates)}")


@dataclass
class _OpenVino:
    name: str
    device: str
    model_path: Path

    def __post_init__(self) -> None:
        import openvino as ov
        core = ov.Core()
        model = core.read_model(str(self.model_path))
        if self.device == "NPU":  # the NPU compiles static shapes only: one per tile size
            self._model, self._core, self._compiled = model, core, {}
        else:
            self._compiled = core.compile_model(model, self.device, {"PERFORMANCE_HINT": "LATENCY"})
        self._inputs = [i.get_any_name() for i in model.inputs]

    def _request(self, shape: tuple[int, ...]):
        if isinstance(self._compiled, dict):
            if shape not in self._compiled:
                m = self._model.clone()
                m.reshape({"image": list(shape)})
                self._compiled[shape] = self._core.compile_model(m, self.device)
            return self._compiled[shape].create_infer_request()
        if not hasattr(self, "_req"):
            self._req = self._compiled.create_infer_request()
        return self._req

    def run(self, image: np.ndarray, cond: dict[str, np.ndarray]) -> np.ndarray:
        req = self._request(image.shape)
        req.infer({"image": image, **cond})
        return req.get_output_tensor(0).data  # valid until the next run; the engine consumes it first


@dataclass
class _OnnxRuntime:
    name: str
    device: str
    model_path: Path

    def __post_init__(self) -> None:
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = os.cpu_count() or 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.enable_cpu_mem_arena = False  # the arena grows in large steps: 3x the memory per tile
        providers = ["CPUExecutionProvider"]
        if self.device == "GPU":
            providers = [p for p in ort.get_available_providers() if p in _ORT_GPU] + providers
        self._session = ort.InferenceSession(str(self.model_path), opts, providers=providers)

    def run(self, image: np.ndarray, cond: dict[str, np.ndarray]) -> np.ndarray:
        return self._session.run(None, {"image": image, **cond})[0]


@functools.cache
def _load(model_path: Path, backend: str, device: str) -> Runner:
    cls = _OpenVino if backend == "openvino" else _OnnxRuntime
    try:
        return cls(backend, device, model_path)
    except Exception as e:  # the runtimes raise their own types for a corrupt model file
        raise BackendError(f"{backend} could not load {model_path.name} on {device}: {e}".splitlines()[0]) from e


def load(model_path: str | os.PathLike, backend: str = "auto", device: str = "auto") -> Runner:
    """The compiled model for this backend/device, loaded once per process."""
    b, d = choose(backend, device)
    return _load(Path(model_path).resolve(), b, d)
