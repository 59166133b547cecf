"""Hostile but ordinary input to the CLI, run as a user would (a subprocess each): what comes
back is exit status 2 and one line naming the problem, or a correct result (with a warning
where something is left out). Inputs are never overwritten, outputs never half-written."""
from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT, run_cli


@pytest.fixture(scope="module")
def grey(sketch) -> np.ndarray:
    """The 160x200 window of the generated sketch with the most ink (a fixed corner can fall
    on blank paper when the generator changes)."""
    ink = 255.0 - sketch
    y, x = max(((y, x) for y in range(0, sketch.shape[0] - 160, 40) for x in range(0, sketch.shape[1] - 200, 20)),
               key=lambda yx: ink[yx[0]:yx[0] + 160, yx[1]:yx[1] + 200].sum())
    return np.ascontiguousarray(sketch[y:y + 160, x:x + 200])


def _png(tmp: Path, grey: np.ndarray, name: str = "sketch.png") -> Path:
    p = tmp / name
    Image.fromarray(grey).save(p)
    return p


def _put(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _card(tmp: Path, **changes) -> Path:
    """A copy of the shipped model and card, the card changed."""
    from smart_lineart.engine.model_card import load_card
    card = load_card()
    raw = dict(card.raw, **changes)
    shutil.copy(card.path, tmp / "m.onnx")
    (tmp / "m.json").write_text(json.dumps(raw))
    return tmp / "m.onnx"


def _onnx(tmp: Path, inputs: list[str], halve: bool = False) -> Path:
    """A small ONNX model: its first input passed through (or halved in size)."""
    import onnx
    from onnx import TensorProto, helper
    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 1, "h", "w"] if n in ("image", "x") else [1, None])
           for n in inputs]
    out = helper.make_tensor_value_info("lineart", TensorProto.FLOAT, [1, 1, None, None])
    node = helper.make_node("MaxPool", [inputs[0]], ["lineart"], kernel_shape=[2, 2], strides=[2, 2]) if halve \
        else helper.make_node("Identity", [inputs[0]], ["lineart"])
    model = helper.make_model(helper.make_graph([node], "g", ins, [out]), opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp / "m.onnx"
    onnx.save(model, path)
    card = json.loads((ROOT / "models" / "lineart-v4.json").read_text())
    path.with_suffix(".json").write_text(json.dumps(card))
    return path


def _bomb(tmp: Path) -> Path:
    """A PNG whose header says 100000 x 100000 (a decompression bomb)."""
    import struct
    import zlib
    p = tmp / "bomb.png"
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    chunk = lambda k, d: struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))  # noqa: E731
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))
    return p


# Each case: (id, setup(tmp, grey) -> argv, exit status, text the one error line (or warning) must hold)
def _file(make):
    return lambda tmp, g: [str(make(tmp, g)), "-o", str(tmp / "out.png")]


def _flags(*flags):
    return lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "out.png"), *flags]


def _save(mode_or_fn, name, **kw):
    def make(tmp, g):
        img = mode_or_fn(g) if callable(mode_or_fn) else Image.fromarray(g).convert(mode_or_fn)
        img.save(tmp / name, **kw)
        return tmp / name
    return make


def _frames(g, n=3):
    return [Image.fromarray(np.roll(g, 10 * i, axis=1)) for i in range(n)]


def _multi(name):
    def make(tmp, g):
        first, *rest = _frames(g)
        first.save(tmp / name, save_all=True, append_images=rest)
        return tmp / name
    return make


def _exif_rotated(tmp, g):
    img = Image.fromarray(g).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(tmp / "photo.jpg", exif=exif, quality=95)
    return tmp / "photo.jpg"


CASES = [
    # unreadable or odd files
    ("missing file", lambda tmp, g: [str(tmp / "nope.png"), "-o", str(tmp / "out.png")], 2, "no such file"),
    ("empty file", _file(lambda tmp, g: _put(tmp / "e.png", b"")), 2, "cannot read"),
    ("text as png", _file(lambda tmp, g: _put(tmp / "t.png", "hello")), 2, "cannot read"),
    ("truncated png", _file(lambda tmp, g: _put(tmp / "cut.png", _png(tmp, g).read_bytes()[:300])), 2, "cannot read"),
    ("folder as input", _file(lambda tmp, g: (tmp / "d").mkdir() or tmp / "d"), 2, "is a folder"),
    ("decompression bomb", _file(lambda tmp, g: _bomb(tmp)), 2, "needs about"),
    ("animated gif", _file(_multi("anim.gif")), 0, "only the first"),
    ("multi-page tiff", _file(_multi("pages.tif")), 0, "only the first"),
    ("float tiff 0-255", _file(_save(lambda g: Image.fromarray(g.astype(np.float32)), "f255.tif")), 0, ""),
    ("float tiff 0-1", _file(_save(lambda g: Image.fromarray(g.astype(np.float32) / 255), "f1.tif")), 0, ""),
    ("32-bit int tiff", _file(_save(lambda g: Image.fromarray(g.astype(np.int32) * 8421504), "i32.tif")), 0, ""),
    ("16-bit png", _file(_save(lambda g: Image.fromarray(g.astype(np.uint16) * 257), "g16.png")), 0, ""),
    ("1-bit png", _file(_save("1", "bw.png")), 0, ""),
    ("palette png", _file(_save("P", "pal.png")), 0, ""),
    ("grey+alpha png", _file(_save("LA", "la.png")), 0, ""),
    ("cmyk jpeg", _file(_save("CMYK", "cmyk.jpg")), 0, ""),
    ("webp", _file(_save("RGB", "s.webp")), 0, ""),
    ("1x1 pixel", _file(_save(lambda g: Image.new("L", (1, 1), 0), "dot.png")), 0, ""),
    ("1x3000 line", _file(_save(lambda g: Image.new("L", (3000, 1), 0), "line.png")), 0, ""),
    ("all black", _file(_save(lambda g: Image.new("L", (64, 48), 0), "black.png")), 0, ""),
    ("fully transparent", _file(_save(lambda g: Image.new("RGBA", (64, 48), (0, 0, 0, 0)), "clear.png")), 0, ""),
    ("exif rotated photo", _file(_exif_rotated), 0, ""),
    # flags
    ("thickness too small", _flags("--thickness", "0.1"), 2, "--thickness"),
    ("thickness too large", _flags("--thickness", "500"), 2, "--thickness"),
    ("thickness not a number", _flags("--thickness", "abc"), 2, "--thickness"),
    ("thickness nan", _flags("--thickness", "nan"), 2, "--thickness"),
    ("thickness inf", _flags("--thickness", "inf"), 2, "--thickness"),
    ("unknown brush", _flags("--brush", "crayon"), 2, "crayon"),
    ("faint above 1", _flags("--faint", "2"), 2, "--faint"),
    ("faint negative", _flags("--faint", "-0.1"), 2, "--faint"),
    ("faint nan", _flags("--faint", "nan"), 2, "--faint"),
    ("memory negative", _flags("--max-memory", "-5"), 2, "--max-memory"),
    ("memory nan", _flags("--max-memory", "nan"), 2, "--max-memory"),
    ("memory inf", _flags("--max-memory", "inf"), 2, "--max-memory"),
    ("memory 1e308", _flags("--max-memory", "1e308"), 2, "--max-memory"),
    ("memory zero", _flags("--max-memory", "0"), 2, "--max-memory"),
    ("memory too small for the model", _flags("--max-memory", "70"), 2, "--max-memory"),
    ("gap closing negative", _flags("--svg", "--close-gaps", "-1"), 2, "--close-gaps"),
    ("gap closing nan", _flags("--svg", "--close-gaps", "nan"), 2, "--close-gaps"),
    ("gap closing too wide", _flags("--svg", "--close-gaps", "1000"), 2, "--close-gaps"),
    ("unknown backend", _flags("--backend", "cuda"), 2, "backend"),
    ("unknown device", _flags("--device", "TPU"), 2, "device"),
    ("unknown flag", _flags("--bogus"), 2, "--bogus"),
    ("no output", lambda tmp, g: [str(_png(tmp, g))], 2, "-o"),
    ("no input", lambda tmp, g: ["-o", str(tmp / "out.png")], 2, "no input"),
    # models
    ("model missing", _flags("--model", "/nonexistent/m.onnx"), 2, "model file not found"),
    ("model without card", lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "o.png"), "--model",
                                           str(shutil.copy(ROOT / "models" / "lineart-v4.onnx", tmp / "x.onnx"))],
     2, "model card not found"),
    ("corrupt model", lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "o.png"), "--model",
                                      str(_put(_card(tmp), bytes(range(256)) * 40))],
     2, "could not load"),
    ("card not json", lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "o.png"), "--model",
                                      str(_put(_card(tmp).with_suffix(".json"), "{").with_suffix(".onnx"))],
     2, "unusable"),
    ("card with no brushes", lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "o.png"), "--model",
                                             str(_card(tmp, brushes=[]))], 2, "brushes"),
    ("card with size multiple 0", lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "o.png"), "--model",
                                                  str(_card(tmp, size_multiple=0))], 2, "size_multiple"),
    ("card with 0 bytes per pixel", lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "o.png"), "--model",
                                                    str(_card(tmp, bytes_per_pixel=0))], 2, "bytes_per_pixel"),
    ("model with other inputs", lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "o.png"), "--model",
                                                str(_onnx(tmp, ["x"]))], 2, "not a lineart model"),
    ("model that changes size", lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "o.png"), "--model",
                                                str(_onnx(tmp, ["image", "thickness", "brush", "faint"], halve=True))],
     2, "not a lineart model"),
    # outputs
    ("output is the input", lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "sketch.png")], 2, "one of the inputs"),
    ("output via another name", lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "." / "sketch.png")], 2,
     "one of the inputs"),
    ("batch into the inputs' folder", lambda tmp, g: [str(_png(tmp, g)), str(_png(tmp, g, "b.png")), "-o", str(tmp)],
     2, "one of the inputs"),
    ("output named .jpg", lambda tmp, g: [str(_png(tmp, g)), "-o", str(tmp / "out.jpg")], 2, ".png"),
    ("output under a file", lambda tmp, g: [str(_png(tmp, g)), "-o", str(_png(tmp, g, "f.png")) + "/x/out.png"],
     2, "cannot write"),
    ("two inputs, same name", lambda tmp, g: [str(_png(tmp, g)), str((tmp / "sub").mkdir() or _png(tmp / "sub", g)),
                                              "-o", str(tmp / "out")], 2, "share a file name"),
    ("batch into a file", lambda tmp, g: [str(_png(tmp, g)), str(_png(tmp, g, "b.png")), "-o", str(_png(tmp, g, "c.png"))],
     2, "is a file"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_input(case, tmp_path, grey):
    _, setup, status, needle = case
    argv = setup(tmp_path, grey)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    res = run_cli(*argv, "--quiet")
    lines = res.stderr.strip().splitlines()
    assert res.returncode == status, res.stderr
    assert "Traceback" not in res.stderr
    if status == 2:
        assert len(lines) == 1 and lines[0].startswith("smart_lineart: error:"), res.stderr
    assert needle in res.stderr, res.stderr
    assert all(p.read_bytes() == data for p, data in before.items() if p.exists()), "an input was changed"
    assert not list(tmp_path.rglob(".*.part")), "a temporary file was left"
    if status == 0:
        out = [p for p in tmp_path.rglob("out.png")]
        assert len(out) == 1
        img = Image.open(out[0])
        src = Image.open(argv[0])
        from PIL import ImageOps
        assert img.size == ImageOps.exif_transpose(src).size and img.mode == "L"


def test_content_survives_float_and_32_bit_samples(tmp_path, grey):
    """Samples in unusual ranges are read as the picture they are, not as blank paper."""
    ref = tmp_path / "ref.png"
    assert run_cli(str(_png(tmp_path, grey)), "-o", str(ref), "--quiet").returncode == 0
    expected = np.asarray(Image.open(ref)) < 128
    assert expected.sum() > 100
    for name, img in [("f255.tif", Image.fromarray(grey.astype(np.float32))),
                      ("i32.tif", Image.fromarray(grey.astype(np.int32) * 8421504))]:
        img.save(tmp_path / name)
        out = tmp_path / f"{name}.png"
        assert run_cli(str(tmp_path / name), "-o", str(out), "--quiet").returncode == 0
        got = np.asarray(Image.open(out)) < 128
        assert (got & expected).sum() / expected.sum() > 0.95, name


def test_exif_orientation_is_applied(tmp_path, grey):
    src = _exif_rotated(tmp_path, grey)
    upright = tmp_path / "upright.png"
    Image.fromarray(np.rot90(grey, -1).copy()).save(upright)
    outs = []
    for p in (src, upright):
        o = tmp_path / f"{p.stem}-out.png"
        assert run_cli(str(p), "-o", str(o), "--quiet").returncode == 0
        outs.append(np.asarray(Image.open(o)) < 128)
    assert outs[0].shape == (grey.shape[1], grey.shape[0])
    assert (outs[0] & outs[1]).sum() / outs[1].sum() > 0.9


def test_batch_goes_on_after_a_bad_page(tmp_path, grey):
    pages = [_png(tmp_path, grey, "a.png"), tmp_path / "broken.png", _png(tmp_path, grey, "c.png")]
    pages[1].write_text("not an image")
    res = run_cli(*map(str, pages), "-o", str(tmp_path / "out"), "--quiet")
    assert res.returncode == 2
    assert "broken.png" in res.stderr and "1 of 3 inputs failed" in res.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png"]


def test_trailing_slash_makes_a_folder(tmp_path, grey):
    res = run_cli(str(_png(tmp_path, grey)), "-o", str(tmp_path / "new") + "/", "--quiet")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "new" / "sketch.png").is_file()


def _limit_file_size(limit: int):
    def pre():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def test_full_disk_keeps_the_previous_output_and_leaves_no_partial_file(tmp_path, sketch):
    """A write that fails half-way (the file-size limit stands in for a full disk): exit 2
    naming the file, the previous output untouched, no temporary file left."""
    src = _png(tmp_path, sketch)
    out = tmp_path / "out.png"
    out.write_bytes(b"previous result")
    res = subprocess.run([sys.executable, "-m", "smart_lineart", str(src), "-o", str(out), "--quiet"],
                         capture_output=True, text=True, cwd=ROOT, preexec_fn=_limit_file_size(2000))
    assert res.returncode == 2 and "cannot write" in res.stderr and "out.png" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == b"previous result"
    assert not list(tmp_path.glob(".*.part"))


def test_ctrl_c_while_a_runtime_initialises_is_an_interrupt(monkeypatch, capsys):
    """A compiled module's init turns Ctrl-C into ImportError("initialization failed"): still
    exit 130 and "interrupted", not an internal error."""
    from smart_lineart import cli

    def run(argv):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as k:
            raise ImportError("initialization failed") from k
    monkeypatch.setattr(cli, "run", run)
    assert cli.main([]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_ctrl_c_never_leaves_a_partial_output(tmp_path):
    """Interrupt the CLI at several moments while it works on a big page: the output is either
    absent or a complete PNG, and no temporary file is left."""
    page = np.full((3000, 2600), 255, np.uint8)
    page[::40] = 0
    src = tmp_path / "page.png"
    Image.fromarray(page).save(src)
    for delay in (0.5, 1.5, 2.5, 3.5, 5.0):
        out = tmp_path / f"out-{delay}.png"
        proc = subprocess.Popen([sys.executable, "-m", "smart_lineart", str(src), "-o", str(out), "--quiet"],
                                stderr=subprocess.PIPE, cwd=ROOT)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert b"Traceback" not in err
        if out.exists():
            assert Image.open(out).size == (2600, 3000)  # complete: it decodes
            Image.open(out).load()
        else:
            assert proc.returncode == 130, err
        assert not list(tmp_path.glob(".*.part"))
