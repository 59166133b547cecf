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
from ..log import LOG

BACKENDS = ("openvino", "onnxruntime")
DEVICES = ("CPU", "GPU", "NPU")

# ONNX Runtime execution providers that count as a GPU, by platform
_ORT_GPU = ("CUDAExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider", "ROCMExecutionProvider")


class Runner(Protocol):
    name: str
    device: str
    precision: str  # what it computes in: "f32", "bf16", "f16" (activation memory depends on it)

    def run(self, image: np.ndarray, cond: dict[str, np.ndarray]) -> np.ndarray:
        """image (1,1,H,W) float32 -> (1,1,H,W) float32; cond: thickness, brush, faint."""

    def release(self) -> None:
        """Free per-run buffers (the next run allocates them again)."""


INPUTS = {"image", "thickness", "brush", "faint"}  # what a lineart model takes (CONTRACT)


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


def int8_is_faster(backend: str = "auto", device: str = "auto") -> bool:
    """Whether an int8 model runs faster than its float twin on what 'backend' and 'device'
    resolve to: OpenVINO on a CPU that computes int8 but not bf16 natively (there OpenVINO's
    float path is f32, at half bf16's speed)."""
    b, d = choose(backend, device)
    if (b, d) != ("openvino", "CPU"):
        return False  # ONNX Runtime runs QDQ models slower than float ones
    caps = _cpu_capabilities()
    return "INT8" in caps and "BF16" not in caps


@functools.cache
def _cpu_capabilities() -> tuple[str, ...]:
    import openvino as ov
    return tuple(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


@dataclass
class _OpenVino:
    name: str
    device: str
    model_path: Path
    precision: str = ""  # "": the device's default (bf16 where the CPU has it natively)

    def __post_init__(self) -> None:
        import openvino as ov
        from openvino.frontend import FrontEndManager
        self._req = None
        core = ov.Core()
        onnx = FrontEndManager().load_by_framework("onnx")  # only ONNX: other readers log raw bytes
        model = onnx.convert(onnx.load(str(self.model_path)))
        if self.device == "NPU":  # the NPU compiles static shapes only: one per tile size
            self._model, self._core, self._compiled = model, core, {}
            self.precision = self.precision or "f16"
        else:
            config = {"PERFORMANCE_HINT": "LATENCY"} | ({"INFERENCE_PRECISION_HINT": self.precision} if self.precision else {})
            compiled = core.compile_model(model, self.device, config)
            self.precision = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
            self._compiled = compiled
        _check_inputs({i.get_any_name() for i in model.inputs}, len(model.outputs))

    def _request(self, shape: tuple[int, ...]):
        if isinstance(self._compiled, dict):
            if shape not in self._compiled:
                m = self._model.clone()
                m.reshape({"image": list(shape)})
                self._compiled[shape] = self._core.compile_model(m, self.device)
            return self._compiled[shape].create_infer_request()
        if self._req is None:
            self._req = self._compiled.create_infer_request()
        return self._req

    def run(self, image: np.ndarray, cond: dict[str, np.ndarray]) -> np.ndarray:
        req = self._request(image.shape)
        req.infer({"image": image, **cond})
        return req.get_output_tensor(0).data  # valid until the next run; the engine consumes it first

    def release(self) -> None:
        self._req = None
        if not isinstance(self._compiled, dict):
            self._compiled.release_memory()  # dropping the request alone keeps its buffers


@dataclass
class _OnnxRuntime:
    name: str
    device: str
    model_path: Path
    precision: str = "f32"

    def __post_init__(self) -> None:
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = os.cpu_count() or 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.enable_cpu_mem_arena = False  # the arena grows in large steps: 3x the memory per tile
        providers = ["CPUExecutionProvider"]
        if self.device == "GPU":
            providers = [p for p in ort.get_available_providers() if p in _ORT_GPU] + providers
        opts.log_severity_level = 3  # errors reach the user as one line, not as the runtime's log
        ort.set_default_logger_severity(3)
        self._session = ort.InferenceSession(str(self.model_path), opts, providers=providers)
        _check_inputs({i.name for i in self._session.get_inputs()}, len(self._session.get_outputs()))

    def run(self, image: np.ndarray, cond: dict[str, np.ndarray]) -> np.ndarray:
        return self._session.run(None, {"image": image, **cond})[0]

    def release(self) -> None:
        pass  # no arena: ONNX Runtime frees a run's buffers itself


class _CompileError(BackendError):
    """A runtime could not load or compile a model on a device (another runtime may)."""


def _check_inputs(names: set[str], outputs: int) -> None:
    if names != INPUTS or outputs != 1:
        raise BackendError(f"it takes {', '.join(sorted(names)) or 'nothing'} and gives {outputs} outputs; a lineart "
                           f"model takes {', '.join(sorted(INPUTS))} and gives the lineart")


@functools.cache
def _load(model_path: Path, backend: str, device: str, precision: str) -> Runner:
    cls = _OpenVino if backend == "openvino" else _OnnxRuntime
    try:
        return cls(backend, device, model_path, *([precision] if precision else []))
    except BackendError as e:
        raise BackendError(f"{model_path.name} is not a lineart model: {e}") from e
    except Exception as e:  # the runtimes raise their own types (and raw bytes) for a corrupt file
        raise _CompileError(f"{backend} could not load {model_path.name} on {device}: {_plain(e)}") from e


def _plain(e: Exception) -> str:
    """The telling line of a runtime's message (not where in its sources it failed), printable
    and short."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    telling = [line for line in lines if not line.startswith(("Check ", "Exception from", "FrontEnd API failed"))]
    line = (telling or lines or [e.__class__.__name__])[-1 if telling else 0]
    text = "".join(c if c.isprintable() and c.isascii() else "?" for c in line)
    return text[:160] + ("…" if len(text) > 160 else "")


def load(model_path: str | os.PathLike, backend: str = "auto", device: str = "auto", precision: str = "") -> Runner:
    """The compiled model for this backend/device, loaded once per process. precision: force
    OpenVINO's ("f32", "bf16"; the export probe measures each); "": the device's default."""
    b, d = choose(backend, device)
    path = Path(model_path).resolve()
    try:
        return _load(path, b, d, precision)
    except _CompileError as e:
        # 'auto' promises a run: OpenVINO lacks some kernels on some CPUs (int8 transposed
        # convolutions where oneDNN is capped below AVX-512); ONNX Runtime computes them, slower
        if backend != "auto" or b != "openvino" or "onnxruntime" not in installed_backends():
            raise
        LOG.warning("%s; running it in onnxruntime instead", e)
        return _load(path, "onnxruntime", d if d in devices("onnxruntime") else "CPU", "")
