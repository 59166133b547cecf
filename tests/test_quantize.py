"""Quantisation-aware training (training/quantize.py): rounding that is real, keeps gradients, and
is what the exported model computes in OpenVINO and ONNX Runtime; stages that calibrate once."""
import platform
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tests.conftest import ROOT  # noqa: E402
from training import quantize  # noqa: E402
from training.model import SIZE_MULTIPLE, LineartNet, from_state  # noqa: E402
from training.synth import BRUSHES  # noqa: E402


def _inputs(n: int = 2, size: int = 64, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    image = (torch.rand(n, 2, size, size, generator=g) > 0.9).float() * -0.8 + 1.0  # sparse dark marks on white
    image[:, 1] = 0.0
    return (image, torch.full((n, 1), 3.0), torch.eye(len(BRUSHES))[torch.arange(n) % len(BRUSHES)],
            torch.full((n, 1), 0.3))


def _calibrated(seed: int = 0) -> tuple[LineartNet, LineartNet]:
    """A random float network and its quantised copy, calibrated."""
    torch.manual_seed(seed)
    float_net = LineartNet(len(BRUSHES), planes=2).eval()
    q = quantize.prepare(from_state(float_net.state_dict(), len(BRUSHES))).eval()
    image, th, br, fa = _inputs()
    quantize.calibrate(q, [(image, image, th, br, fa)])
    return float_net, q


def test_an_uncalibrated_network_is_the_float_one_and_calibration_rounds_for_real():
    float_net, q = _calibrated()
    layers = quantize.layers(q)
    names = {n for n, m in q.named_modules() if m in layers}
    assert len(names) == 18 and not names & set(quantize.FLOAT_LAYERS)
    assert {type(m) for m in layers} == {quantize.QuantConv2d, quantize.QuantConvTranspose2d}
    fresh = quantize.prepare(from_state(float_net.state_dict(), len(BRUSHES))).eval()
    x = _inputs(seed=1)
    with torch.no_grad():
        ref = float_net(*x, logits=True)
        assert torch.equal(fresh(*x, logits=True), ref)  # not calibrated: float
        rounded = q(*x, logits=True)
    diff = (rounded - ref).abs()
    assert 0 < diff.mean() < 0.05 * ref.abs().mean()  # rounded, and close


def test_rounding_keeps_gradients_for_every_weight():
    _, q = _calibrated()
    q.train()
    q(*_inputs(seed=2), logits=True).square().mean().backward()
    for layer in quantize.layers(q):
        assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_the_exported_model_computes_in_int8_what_training_computed(tmp_path):
    from smart_lineart.engine import backends
    from training.export import export_onnx
    _, q = _calibrated()
    image, th, br, fa = _inputs(1, 3 * SIZE_MULTIPLE * 2, seed=3)
    with torch.no_grad():
        ref = q(image, th, br, fa).numpy()
    path = tmp_path / "q.onnx"
    export_onnx(q, path)
    import onnx
    graph = onnx.load(str(path)).graph
    int8 = [i for i in graph.initializer if i.data_type == onnx.TensorProto.INT8 and len(i.dims) == 4]
    assert len(int8) == len(quantize.layers(q))  # weights stored as int8
    cond = {"thickness": th.numpy(), "brush": br.numpy(), "faint": fa.numpy()}
    for backend in backends.installed_backends():
        out = backends.load(path, backend, "CPU").run(image.numpy(), cond)
        assert np.abs(out - ref).mean() < 1e-4, backend
    if "openvino" in backends.installed_backends() and platform.machine() in ("x86_64", "AMD64"):
        import openvino as ov
        compiled = ov.Core().compile_model(str(path), "CPU")
        precisions = Counter(op.get_rt_info()["runtimePrecision"].astype(str) for op in compiled.get_runtime_model().get_ops()
                             if op.get_rt_info()["layerType"].astype(str) in ("Convolution", "Deconvolution"))
        assert precisions["u8"] + precisions["i8"] == len(quantize.layers(q)), precisions


def test_a_quantised_stage_calibrates_once_resumes_and_ships_quantised(tmp_path):
    from training.export import run_weights
    base = [sys.executable, "-m", "training.train", "--size", "64", "--batch", "2", "--workers", "0",
            "--val-every", "3", "--planes", "2", "--patience", "1000"]
    first, second = tmp_path / "float", tmp_path / "int8"
    subprocess.run(base + ["--run", str(first), "--minutes", "0.05"], check=True, capture_output=True, cwd=ROOT)
    cmd = base + ["--run", str(second), "--init", str(first / "last.pt"), "--quantize", "int8", "--ema", "0.5",
                  "--seed", "2"]
    res = subprocess.run(cmd + ["--minutes", "0.05"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0 and "calibrated the int8 ranges" in res.stdout, res.stderr
    ck = torch.load(second / "last.pt", weights_only=False)
    scales = {k: v for k, v in ck["model"].items() if k.endswith(".in_scale")}
    assert scales and all(float(v) > 0 for v in scales.values())
    more = ck["state"]["seconds"] / 60 + 0.01  # at least one step more, however slow the machine
    res = subprocess.run(cmd + ["--minutes", f"{more}"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0 and "resumed at step" in res.stdout and "calibrated" not in res.stdout, res.stderr
    again = torch.load(second / "last.pt", weights_only=False)
    assert again["state"]["step"] > ck["state"]["step"]
    assert all(torch.equal(again["model"][k], v) for k, v in scales.items())  # ranges kept, not re-measured
    shipped = run_weights(second)  # the moving average, with the ranges
    assert quantize.is_quantized(shipped) and all(torch.equal(shipped[k], v) for k, v in scales.items())
    assert quantize.layers(from_state(shipped, len(BRUSHES)))
