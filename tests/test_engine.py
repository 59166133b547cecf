import shutil
from dataclasses import replace

import numpy as np
import pytest

from smart_lineart.engine import backends
from smart_lineart.engine.memory import rss_mb
from smart_lineart.engine.model_card import load_card
from smart_lineart.engine.tiling import RESERVE_MB, Engine, spans
from smart_lineart.errors import BackendError, Cancelled, MemoryCapError, SettingsError
from smart_lineart.settings import Settings

TOL = 2  # of 255


@pytest.mark.parametrize("backend, thickness", [(b, 3.0) for b in backends.installed_backends()] + [("auto", 10.0)])
def test_tiled_equals_untiled(card, sketch, backend, thickness):
    """Cores of 32 px in windows of one shape, the last of each row and column overlapping the
    one before (`spans`), draw what one window over the whole page draws."""
    page = np.tile(sketch, (2, 2))[:-5, :-3]  # sides that are not multiples of the cores
    device = "auto" if backend == "auto" else "CPU"
    whole_engine = Engine(card, backend, device, max_memory_mb=4096)
    whole = whole_engine.run(page, Settings(thickness))
    tiled_engine = Engine(card, backend, device, tile=32)
    s = tiled_engine.scale(thickness)
    h, w = -(-page.shape[0] // s), -(-page.shape[1] // s)
    th, tw = tiled_engine.tile_core(h, w)
    rows, cols = (spans(n, t, card.margin, card.size_multiple)[1] for n, t in ((h, th), (w, tw)))
    assert (th, tw) == (32, 32) and len(rows) >= 9 and len(cols) >= 2  # really many tiles
    assert len(spans(h, whole_engine.tile_core(h, w)[0], card.margin, card.size_multiple)[1]) == 1
    tiled = tiled_engine.run(page, Settings(thickness))
    assert tiled.shape == page.shape
    assert np.abs(tiled.astype(int) - whole).max() <= TOL
    assert (whole < 128).mean() > 0.01  # there are lines to compare, not just paper


def test_backends_agree(card, sketch):
    """At one precision the two runtimes draw the same page."""
    if len(backends.installed_backends()) < 2:
        pytest.skip("needs both backends")
    ov = Engine(card, "openvino", "CPU", whole_process=False, precision="f32").run(sketch)
    ort = Engine(card, "onnxruntime", "CPU", whole_process=False).run(sketch)
    diff = np.abs(ov.astype(int) - ort)
    assert diff.mean() < 0.05 and diff.max() <= 4, (diff.mean(), diff.max())


def test_default_precision_stays_close_to_f32(card, sketch):
    """OpenVINO computes in bf16 where the CPU does it natively (3x faster here). Rounding moves
    edge pixels by up to ~18/255 after the output levels' stretch (lineart-v17; lineart-v5 ~5),
    and now and then one fragment lands on the other side of the unsure-fragment cleanup's
    threshold: allowed only that rarely."""
    if "openvino" not in backends.installed_backends():
        pytest.skip("needs OpenVINO")
    default = Engine(card, "openvino", "CPU", whole_process=False)  # the int8 twin where that is faster
    f32 = Engine(default.card, "openvino", "CPU", whole_process=False, precision="f32").run(sketch)
    diff = np.abs(default.run(sketch).astype(int) - f32)
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 16, (default.runner.precision, diff.mean(), np.percentile(diff, 99.9))
    assert (diff > 32).mean() <= 2e-4, (default.runner.precision, (diff > 32).sum(), diff.max())


@pytest.mark.parametrize("shape, value", [((1, 1), 255), ((1, 1), 0), ((200, 333), 255), ((7, 1000), 255)])
def test_tiny_and_blank_images_give_white(card, shape, value):
    out = Engine(card, whole_process=False).run(np.full(shape, value, np.uint8))
    assert out.shape == shape
    assert out.min() >= 250


@pytest.mark.parametrize("settings", [Settings(thickness=0.2), Settings(thickness=100), Settings(thickness=float("nan")),
                                      Settings(brush="crayon"), Settings(faint=1.5)])
def test_bad_settings_raise(card, settings):
    with pytest.raises(SettingsError):
        Engine(card, whole_process=False).run(np.full((32, 32), 255, np.uint8), settings)


def test_progress_and_cancel_between_tiles(card, sketch):
    engine = Engine(card, tile=128)
    calls = []
    engine.run(sketch, progress=lambda done, total: calls.append((done, total)))
    # 517 px down (528 padded): cores of 128 px, the first and last with their outer margin of
    # 128 px too: 3 windows; the 301 px across fit one window
    assert calls == [(i, 3) for i in range(1, 4)]
    ticks = []
    with pytest.raises(Cancelled):
        engine.run(sketch, progress=lambda d, t: ticks.append(d), cancelled=lambda: len(ticks) >= 2)
    assert ticks == [1, 2]


def test_tile_size_follows_memory_cap(card):
    engine = Engine(card)
    assert engine.fixed_mb >= rss_mb() * 0.9  # the CLI's cap is on the whole process
    base = engine.fixed_mb + (card.planes + 1) * 8000 * 8000 / 2**20 + RESERVE_MB  # this process, sketch planes and result, headroom
    engine.max_memory_mb = base + 1024
    big = engine.tile_core(8000, 8000)
    engine.max_memory_mb = base + 100
    small = engine.tile_core(8000, 8000)
    assert big[0] > small[0] >= card.size_multiple
    assert all(s % card.size_multiple == 0 for s in big + small)
    window = engine.window(8000, 8000, *small)
    assert window == (small[0] + 2 * card.margin,) * 2
    # its activations and what the runtime keeps for good after running a new window shape
    assert engine._tile_mb(*window) <= 100
    assert engine._tile_mb(*window) >= engine.run_mb + engine.bytes_per_pixel * window[0] * window[1] / 2**20 \
        + engine.runner.keeps_mb((1, card.planes, *window))
    side = 40 + 2 * card.margin
    room = engine._tile_mb(side, side)
    engine.max_memory_mb = base + room  # room for a tile under one TILE_STEP: still runs
    core = engine.tile_core(8000, 8000)
    # (32, 32) on a fresh runtime; larger where a test before ran that window shape (nothing more to keep)
    assert core[0] >= card.size_multiple and engine._tile_mb(*engine.window(8000, 8000, *core)) <= room
    engine.max_memory_mb = base
    with pytest.raises(MemoryCapError, match="8000x8000 page needs about"):
        engine.tile_core(8000, 8000)
    krita = Engine(card, whole_process=False)  # the plugin's own work: the runtime, and what it kept since
    assert krita.fixed_mb - krita.runner.kept_mb < 0.5 * engine.fixed_mb


def test_output_levels_apply_per_brush(card, sketch):
    plain = Engine(replace(card, output_levels={}), whole_process=False)
    pencil_only = Engine(replace(card, output_levels={"pencil": (0.2, 0.85)}), whole_process=False)
    crop = sketch[:160, :160]
    ink = card.brushes[0]
    np.testing.assert_array_equal(plain.run(crop, Settings(3.0, ink)), pencil_only.run(crop, Settings(3.0, ink)))
    raw, curved = plain.run(crop, Settings(3.0, "pencil")), pencil_only.run(crop, Settings(3.0, "pencil"))
    # the unsure-fragment cleanup sees the curved page: a light fragment may go in one only
    grey = (raw > 60) & (raw < 200) & (curved < 255)
    assert grey.sum() > 0.9 * ((raw > 60) & (raw < 200)).sum()
    # black point 0.2, white point 0.85: greys get darker or lighter along the curve
    expect = np.clip((raw[grey] / 255 - 0.2) / 0.65 * 255, 0, 255)
    assert np.abs(curved[grey] - expect).max() <= 2


def test_auto_runs_a_model_openvino_cannot_compile_in_onnx_runtime(card, sketch, tmp_path, monkeypatch):
    """A model OpenVINO fails to compile on the device (int8 kernels it lacks on some CPUs):
    'auto' still runs it, in ONNX Runtime, as that backend alone would; a named backend reports
    its own error."""
    if set(backends.installed_backends()) != set(backends.BACKENDS):
        pytest.skip("needs both backends")
    for f in (card.path, card.path.with_suffix(".json")):  # a copy: runners stay cached per path
        shutil.copy(f, tmp_path)
    copy = load_card(tmp_path / card.path.name)
    compile_model = backends._OpenVino._compile

    class Refusing:
        def compile_model(self, *args):
            raise RuntimeError("Check 'false' failed at src/plugins/intel_cpu: no kernel\nUnsupported node")

    def refuse(self, cond, shape):
        if self.model_path.parent == tmp_path.resolve():
            self._core = Refusing()
        return compile_model(self, cond, shape)

    monkeypatch.setattr(backends._OpenVino, "_compile", refuse)
    engine = Engine(copy, "auto", "CPU", whole_process=False)
    assert engine.backend == "onnxruntime/CPU"
    assert np.array_equal(engine.run(sketch), Engine(copy, "onnxruntime", "CPU", whole_process=False).run(sketch))
    with pytest.raises(BackendError, match="openvino could not load .* Unsupported node"):
        Engine(copy, "openvino", "CPU", whole_process=False)
    assert Engine(card, "auto", "CPU", whole_process=False).backend == "openvino/CPU"  # others as before


def test_the_default_model_runs_in_int8_where_openvino_computes_f32(card, sketch, monkeypatch, capsys):
    """On a CPU that computes int8 but not bf16 natively (most laptops) the default model runs as
    its int8 version, 2x faster there, and --list says so; with native bf16, with ONNX Runtime,
    with a precision asked for, or with another model, as asked."""
    from smart_lineart import cli
    from smart_lineart.engine import model_card
    if "openvino" not in backends.installed_backends() or model_card.int8_default() is None:
        pytest.skip("needs OpenVINO and the int8 model")
    assert model_card.is_default(card)
    monkeypatch.setattr(backends, "_cpu_capabilities", lambda: ("FP32", "INT8"))  # a laptop's
    laptop = Engine(card, "auto", "CPU", whole_process=False)
    assert laptop.card.name == model_card.DEFAULT_INT8_MODEL and laptop.runner.name == "openvino"
    cli._list(None)
    assert f"runs as its int8 version {model_card.DEFAULT_INT8_MODEL} here" in capsys.readouterr().out
    ours = Engine(card, "onnxruntime", "CPU", whole_process=False) if "onnxruntime" in backends.installed_backends() else None
    assert ours is None or ours.card.name == card.name
    assert Engine(card, "openvino", "CPU", whole_process=False).card.name == model_card.DEFAULT_INT8_MODEL
    # a precision asked for, or a changed copy of the card (levels swept), measures this model: no twin
    assert Engine(card, "openvino", "CPU", whole_process=False, precision="f32").card.name == card.name
    for changed in (replace(card, output_levels={}), replace(card, default_faint=0.3)):
        assert Engine(changed, "openvino", "CPU", whole_process=False).card is changed
    other = load_card(sorted(p for p in model_card.available_models() if p.stem not in
                             (card.name, model_card.DEFAULT_INT8_MODEL))[0])
    assert Engine(other, "openvino", "CPU", whole_process=False).card.name == other.name
    monkeypatch.setattr(backends, "_cpu_capabilities", lambda: ("FP32", "INT8", "BF16"))  # this kind of Xeon
    assert Engine(card, "auto", "CPU", whole_process=False).card.name == card.name
    cli._list(None)
    assert "int8" not in capsys.readouterr().out
    diff = np.abs(laptop.run(sketch).astype(int) - Engine(card, "openvino", "CPU", whole_process=False).run(sketch))
    assert diff.mean() < 2  # the int8 model draws what the float one does (of 255)


def test_openvino_compiles_once_per_setting_the_engine_starts_with_and_runs(card, sketch, monkeypatch):
    """The OpenVINO runner is compiled for one conditioning at a time: an engine made with the
    settings its pages use compiles once; other settings compile again, each when it comes,
    and give their own lineart."""
    if "openvino" not in backends.installed_backends():
        pytest.skip("needs OpenVINO")
    compiled = []
    compile_model = backends._OpenVino._compile

    def count(self, cond, shape):
        compiled.append(round(float(cond["thickness"][0, 0]), 3))
        return compile_model(self, cond, shape)

    monkeypatch.setattr(backends._OpenVino, "_compile", count)
    first, other = Settings(2.7, faint=0.33), Settings(4.1, faint=0.33)
    engine = Engine(card, "openvino", "CPU", whole_process=False, settings=first)
    a = engine.run(sketch, first)
    assert compiled == [2.7]
    b = engine.run(sketch, other)
    assert compiled == [2.7, 4.1] and np.array_equal(engine.run(sketch, first), a)
    assert (b < 128).sum() > 1.2 * (a < 128).sum()  # thicker lines: the setting took
