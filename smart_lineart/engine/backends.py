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
# OpenVINO keeps kernels and buffers for every image shape it has run, which neither
# release_memory nor dropping the compiled model gives back (openvino issues 20633, 23316).
# Measured here for a window of A px: 2-20 MB per new shape (lineart-v26 in int8 the most,
# lineart-v25 in f32 the least) and, for a shape larger than any before, up to 12 bytes per px
# of what it adds to the largest (compiling for other settings adds nothing lasting): bounded by
KEPT_MB_PER_SHAPE, KEPT_BYTES_PER_PIXEL, KEPT_BYTES_PER_NEW_PIXEL = 8.0, 5.0, 14.0
DEVICES = ("CPU", "GPU", "NPU")

# ONNX Runtime execution providers that count as a GPU, by platform
_ORT_GPU = ("CUDAExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider", "ROCMExecutionProvider")


class Runner(Protocol):
    name: str
    device: str
    precision: str  # what it computes in: "f32", "bf16", "f16" (activation memory depends on it)

    def run(self, image: np.ndarray, cond: dict[str, np.ndarray]) -> np.ndarray:
        """image (1,P,H,W) float32 -> (1,1,H,W) float32; cond: thickness, brush, faint."""

    def prepare(self, cond: dict[str, np.ndarray], shape: tuple[int, ...]) -> None:
        """Get ready to run images of `shape` with `cond` (compiled now where the runtime
        compiles per conditioning: a model the device cannot compile is found at load)."""

    def release(self) -> None:
        """Free per-run buffers (the next run allocates them again)."""

    def keeps_mb(self, shape: tuple[int, ...]) -> float:
        """Memory (MB) the runtime keeps for good once it has run an image of `shape`, beyond
        what it kept before (0 for a shape it has run)."""

    @property
    def kept_mb(self) -> float:
        """What `keeps_mb` added up to over the shapes run so far."""


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
    """Compiled for one conditioning at a time: thickness, brush and faint become constants and
    the image's plane count is fixed, so OpenVINO folds each block's FiLM into its convolution
    and drops the plane handling (1.6x faster per image in bf16 here; `make bench`). A new
    conditioning compiles again (about 0.1 s); the NPU also compiles each tile shape."""
    name: str
    device: str
    model_path: Path
    precision: str = ""  # "": the device's default (bf16 where the CPU has it natively)

    def __post_init__(self) -> None:
        import openvino as ov
        from openvino.frontend import FrontEndManager
        self._core = ov.Core()
        onnx = FrontEndManager().load_by_framework("onnx")  # only ONNX: other readers log raw bytes
        self._model = onnx.convert(onnx.load(str(self.model_path)))
        _check_inputs({i.get_any_name() for i in self._model.inputs}, len(self._model.outputs))
        if self.device == "NPU":
            self.precision = self.precision or "f16"
            self._config: dict[str, str] = {}
        else:
            self._config = {"PERFORMANCE_HINT": "LATENCY"} | ({"INFERENCE_PRECISION_HINT": self.precision} if self.precision else {})
            self.precision = self.precision or self._core.get_property(self.device, "INFERENCE_PRECISION_HINT").get_type_name()
        self._cond_key: bytes = b""
        self._compiled: dict[tuple[int, ...], object] = {}  # by image shape key, for the conditioning _cond_key
        self._requests: dict[tuple[int, ...], object] = {}
        self._shapes: set[tuple[int, ...]] = set()  # image shapes run (under any conditioning)
        self._largest = 0  # px of the largest image run
        self._kept_mb = 0.0

    def keeps_mb(self, shape: tuple[int, ...]) -> float:
        if tuple(shape) in self._shapes:
            return 0.0
        px = shape[-2] * shape[-1]
        return KEPT_MB_PER_SHAPE + (KEPT_BYTES_PER_PIXEL * px + KEPT_BYTES_PER_NEW_PIXEL * max(px - self._largest, 0)) / (1 << 20)

    @property
    def kept_mb(self) -> float:
        return self._kept_mb

    def prepare(self, cond: dict[str, np.ndarray], shape: tuple[int, ...]) -> None:
        self._request(cond, shape)

    def _request(self, cond: dict[str, np.ndarray], shape: tuple[int, ...]):
        """The infer request for this conditioning and image shape, compiled if new."""
        key = b"".join(cond[k].astype(np.float32).tobytes() for k in sorted(cond))
        if key != self._cond_key:
            self.release()
            self._compiled, self._cond_key = {}, key
        shape_key = tuple(shape) if self.device == "NPU" else (1, shape[1], -1, -1)  # the NPU: static shapes only
        if shape_key not in self._requests:
            if shape_key not in self._compiled:
                self._compiled[shape_key] = self._compile(cond, shape_key)
            self._requests[shape_key] = self._compiled[shape_key].create_infer_request()  # type: ignore[attr-defined]
        return self._requests[shape_key]

    def _compile(self, cond: dict[str, np.ndarray], shape: tuple[int, ...]):
        import openvino.opset13 as ops
        model = self._model.clone()
        for param in list(model.get_parameters()):
            name = param.get_output_tensor(0).get_any_name()
            if name in cond:
                value = ops.constant(np.ascontiguousarray(cond[name], np.float32)).output(0)
                for target in list(param.output(0).get_target_inputs()):
                    target.replace_source_output(value)
                model.remove_parameter(param)
        model.reshape({"image": list(shape)})
        try:
            return self._core.compile_model(model, self.device, self._config)
        except Exception as e:  # the runtime's own types: a kernel this device lacks
            raise _CompileError(f"{self.name} could not load {self.model_path.name} on {self.device}: {_plain(e)}") from e

    def run(self, image: np.ndarray, cond: dict[str, np.ndarray]) -> np.ndarray:
        req = self._request(cond, image.shape)
        self._kept_mb += self.keeps_mb(image.shape)
        self._shapes.add(image.shape)
        self._largest = max(self._largest, image.shape[-2] * image.shape[-1])
        req.infer({"image": image}, share_inputs=True)  # the engine holds the window until the run returns
        return req.get_output_tensor(0).data  # valid until the next run; the engine consumes it first

    def release(self) -> None:
        self._requests = {}  # dropping a request alone keeps its buffers
        for compiled in self._compiled.values():
            compiled.release_memory()  # type: ignore[attr-defined]


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

    def prepare(self, cond: dict[str, np.ndarray], shape: tuple[int, ...]) -> None:
        pass  # one session serves every conditioning

    def run(self, image: np.ndarray, cond: dict[str, np.ndarray]) -> np.ndarray:
        return self._session.run(None, {"image": image, **cond})[0]

    def release(self) -> None:
        pass  # no arena: ONNX Runtime frees a run's buffers itself

    def keeps_mb(self, shape: tuple[int, ...]) -> float:
        return 0.0  # measured: nothing stays per shape

    @property
    def kept_mb(self) -> float:
        return 0.0


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


def load(model_path: str | os.PathLike, backend: str = "auto", device: str = "auto", precision: str = "",
         first: tuple[dict[str, np.ndarray], tuple[int, ...]] | None = None) -> Runner:
    """The model for this backend/device, loaded once per process. precision: force OpenVINO's
    ("f32", "bf16"; the export probe measures each); "": the device's default. first: the
    conditioning and image shape of the first run, prepared now."""
    b, d = choose(backend, device)
    path = Path(model_path).resolve()
    try:
        runner = _load(path, b, d, precision)
        if first is not None:
            runner.prepare(*first)
        return runner
    except _CompileError as e:
        # 'auto' promises a run: OpenVINO lacks some kernels on some CPUs (int8 transposed
        # convolutions where oneDNN is capped below AVX-512); ONNX Runtime computes them, slower
        if backend != "auto" or b != "openvino" or "onnxruntime" not in installed_backends():
            raise
        LOG.warning("%s; running it in onnxruntime instead", e)
        return _load(path, "onnxruntime", d if d in devices("onnxruntime") else "CPU", "")
