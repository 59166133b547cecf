import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_cli


def assert_user_error(res, *needles: str) -> None:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr  # one line, no usage dump, no traceback
    assert lines[0].startswith("smart_lineart: error:")
    assert "Traceback" not in res.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def sketch_png(tmp_path_factory, sketch):
    path = tmp_path_factory.mktemp("in") / "sketch.png"
    Image.fromarray(sketch).save(path)
    return path


def test_missing_file(tmp_path):
    assert_user_error(run_cli(str(tmp_path / "nope.png"), "-o", str(tmp_path / "o.png")), "no such file", "nope.png")


def test_unreadable_file(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    assert_user_error(run_cli(str(bad), "-o", str(tmp_path / "o.png")), "cannot read", "notes.png")
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("value", ["0.1", "500", "abc", "nan"])
def test_bad_thickness(sketch_png, tmp_path, value):
    assert_user_error(run_cli(str(sketch_png), "-o", str(tmp_path / "o.png"), "--thickness", value), "thickness")


def test_unknown_brush(sketch_png, tmp_path):
    assert_user_error(run_cli(str(sketch_png), "-o", str(tmp_path / "o.png"), "--brush", "crayon"), "crayon", "fineliner")


@pytest.mark.parametrize("args, needle", [
    (["--bogus"], "--bogus"), (["--backend", "cuda"], "backend"), (["--faint", "2"], "faint"),
    (["--max-memory", "-5"], "max-memory"), (["--model", "/nonexistent/m.onnx"], "model file not found"),
])
def test_bad_flags(sketch_png, tmp_path, args, needle):
    assert_user_error(run_cli(str(sketch_png), "-o", str(tmp_path / "o.png"), *args), needle)


def test_no_output_given(sketch_png):
    assert_user_error(run_cli(str(sketch_png)), "-o")


def test_list_shows_presets_and_range(card):
    res = run_cli("--list")
    assert res.returncode == 0, res.stderr
    for brush in card.brushes:
        assert brush in res.stdout
    assert "auto:" in res.stdout and "thickness" in res.stdout


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "I;16", "P"])
def test_any_input_mode_gives_same_size_grey_png(sketch, tmp_path, mode):
    grey = Image.fromarray(sketch[:200, :150])
    if mode == "I;16":
        img = Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)
    elif mode == "RGBA":  # ink on a transparent layer
        a = 255 - np.asarray(grey)
        img = Image.fromarray(np.dstack([np.zeros_like(a)] * 3 + [a]), "RGBA")
    else:
        img = grey.convert(mode)
    src = tmp_path / f"in-{mode.replace(';', '')}.png"
    img.save(src)
    out = tmp_path / "out.png"
    res = run_cli(str(src), "-o", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    result = Image.open(out)
    assert result.size == (150, 200) and result.mode == "L"
    assert np.asarray(result).min() < 64  # lines were drawn


def test_transparent_output_and_batch_to_folder(sketch_png, tmp_path):
    second = tmp_path / "second.jpg"
    Image.open(sketch_png).convert("RGB").save(second)
    res = run_cli(str(sketch_png), str(second), "-o", str(tmp_path / "out"), "--transparent", "--quiet")
    assert res.returncode == 0, res.stderr
    for name in ("sketch.png", "second.png"):
        img = Image.open(tmp_path / "out" / name)
        assert img.mode == "RGBA" and img.size == Image.open(sketch_png).size
        rgba = np.asarray(img)
        assert rgba[..., :3].max() == 0  # black ink; coverage lives in alpha
        assert rgba[..., 3].max() > 200 and np.median(rgba[..., 3]) == 0
