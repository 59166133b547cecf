"""Lineart -> strokes (engine/strokes.py) and SVG, on lineart with known curves."""
import numpy as np
import pytest
from PIL import Image

from smart_lineart.engine import preprocess
from smart_lineart.engine.morphology import skeleton
from smart_lineart.engine.strokes import extract, fit_error
from smart_lineart.engine.svg import to_svg
from tests.conftest import run_cli
from training.curves import ellipse_points, resample
from training.metrics import prf
from training.synth import Stroke, _draw

SIZE = 256


def _render(curves, width: float = 3.0) -> np.ndarray:
    """Clean lineart (uint8, 255 white) of polylines at `width` px."""
    strokes = [Stroke(c, np.full(len(c), width), np.ones(len(c))) for c in curves]
    return np.clip(255 * (1 - _draw(strokes, SIZE)) + 0.5, 0, 255).astype(np.uint8)


def _svg_pixels(svg: str) -> np.ndarray:
    import io

    import cairosvg
    png = cairosvg.svg2png(bytestring=svg.encode(), background_color="white")
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


CIRCLE = ellipse_points(np.array([128.0, 128.0]), 60, 45, 0.2, 0, 2 * np.pi)
WAVE = resample(np.stack([np.linspace(20, 236, 300), 40 + 12 * np.sin(np.linspace(0, 3 * np.pi, 300))], 1))
T_BAR, T_STEM = resample(np.array([[40.0, 215], [140, 215]])), resample(np.array([[90.0, 215], [90, 250]]))
V = resample(np.array([[170.0, 250], [200, 180], [230, 250]]))


@pytest.fixture(scope="module")
def drawing():
    lineart = _render([CIRCLE, WAVE, T_BAR, T_STEM, V])
    return lineart, extract(lineart, 3.0)


def test_curves_follow_the_raster_within_half_a_pixel(drawing):
    lineart, strokes = drawing
    assert fit_error(strokes, skeleton(lineart < 128)) <= 0.5


def test_no_fragments_or_spurs(drawing):
    _, strokes = drawing
    lengths = [float(np.hypot(*np.diff(p.points, axis=0).T).sum()) for p in strokes.paths]
    assert min(lengths) >= 6.0, sorted(lengths)[:5]
    assert len(strokes.paths) <= 9  # circle, wave, the T's three arms, the V (corner kept in one path)


def test_junctions_and_corners_are_kept(drawing):
    _, strokes = drawing
    ends = np.array([p.points[i] for p in strokes.paths for i in (0, -1)])
    near_t = np.hypot(*(ends - [90.5, 215.5]).T) < 3
    assert near_t.sum() >= 3, "the T's arms meet at its junction"
    # the V (a 134 degree turn at a 3 px width: thinning finds its apex a few px inside the ink)
    # stays one path that turns at its apex through corners, not through a rounded bend
    vee = min(strokes.paths, key=lambda p: float(np.hypot(*(p.points - [200.5, 180.5]).T).min()))
    p = vee.points
    near = [i for i in range(1, len(p) - 1) if np.hypot(*(p[i] - [200.5, 180.5])) < 6]
    assert near, "a vertex at the apex"
    turns = []
    for i in near:
        a, b = p[i] - p[i - 1], p[i + 1] - p[i]
        turns.append(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))
        if turns[-1] > 55:  # a corner: no handle rounds it
            np.testing.assert_allclose(vee.beziers()[i - 1, 2], p[i])
    assert sum(turns) > 110, turns


def test_bands_do_not_cut_strokes(drawing, monkeypatch):
    lineart, whole = drawing
    monkeypatch.setattr(preprocess, "BAND_PIXELS", SIZE * 20)  # bands of 20 rows
    banded = extract(lineart, 3.0)
    assert len(banded.paths) == len(whole.paths)
    for a, b in zip(sorted(whole.paths, key=lambda p: tuple(p.points[0])), sorted(banded.paths, key=lambda p: tuple(p.points[0]))):
        np.testing.assert_allclose(a.points, b.points)
        np.testing.assert_allclose(a.widths, b.widths)


def test_spot_blacks_become_filled_shapes():
    lineart = _render([CIRCLE])
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    pupil = (yy - 128) ** 2 + (xx - 128) ** 2 <= 12 ** 2
    lineart[pupil] = 0
    strokes = extract(lineart, 3.0)
    assert strokes.fills, "the filled disk is a fill"
    drawn = _svg_pixels(to_svg(strokes)) < 128
    assert drawn[pupil].mean() > 0.97
    assert all(np.hypot(*(p.points - 128.5).T).min() > 10 for p in strokes.paths), "no stroke scribbled inside it"


def test_gap_closing_closes_regions():
    gapped = CIRCLE[8:]  # a 8 px gap in the circle
    lineart = _render([gapped])

    def closed(svg: str) -> bool:
        ink = _svg_pixels(svg) < 128
        region = np.zeros_like(ink)
        region[128, 128] = True
        for _ in range(200):  # grow from the centre through paper
            grown = region.copy()
            grown[1:] |= region[:-1]
            grown[:-1] |= region[1:]
            grown[:, 1:] |= region[:, :-1]
            grown[:, :-1] |= region[:, 1:]
            grown &= ~ink
            if (grown == region).all():
                break
            region = grown
        return not (region[0].any() or region[-1].any() or region[:, 0].any() or region[:, -1].any())

    assert not closed(to_svg(extract(lineart, 3.0)))
    assert closed(to_svg(extract(lineart, 3.0, close_gaps=12)))


def test_svg_outlines_follow_the_taper():
    """The inking pen's line swells in the middle and tapers to a point: as outlines, so does
    the SVG; as lines of one width it cannot."""
    from training.synth import render_target
    line = resample(np.array([[30.0, 128.0], [226.0, 128.0]]))
    lineart = (render_target([(line, False)], SIZE, 6.0, "inking-pen") * 255 + 0.5).astype(np.uint8)
    strokes = extract(lineart, 6.0)
    for outlines, tapers in ((True, True), (False, False)):
        ink = _svg_pixels(to_svg(strokes, outlines=outlines)) < 128
        end, middle = ink[:, 40].sum(), ink[:, 128].sum()
        assert (end < 0.6 * middle) == tapers, (outlines, end, middle)
        assert prf(ink, lineart < 128, 2)[2] >= 0.95


@pytest.mark.parametrize("style", [[], ["--svg-outlines"]], ids=["lines", "outlines"])
def test_cli_svg_matches_the_png(tmp_path, sketch, style):
    src = tmp_path / "sketch.png"
    Image.fromarray(sketch).save(src)
    res = run_cli(str(src), "-o", str(tmp_path / "out.png"), "--svg", "--quiet", *style)
    assert res.returncode == 0, res.stderr
    png = np.asarray(Image.open(tmp_path / "out.png")) < 128
    svg = (tmp_path / "out.svg").read_text()
    assert svg.startswith("<svg") and f'viewBox="0 0 {sketch.shape[1]} {sketch.shape[0]}"' in svg
    assert prf(_svg_pixels(svg) < 128, png, 2)[2] >= 0.95


def test_closure_and_fragment_measures_tell_open_from_closed():
    """The gap-closing rate and fragment count in the card rest on these two measures."""
    from training.strokes_eval import encloses, loose_fragments, rasterise
    ring = CIRCLE[:len(CIRCLE) - 12]  # a ~10 px gap
    dash = resample(np.array([[20.0, 240], [28, 240]]))
    lineart = _render([ring, T_BAR, T_STEM, dash])
    seed = (128, 128)
    assert not encloses(rasterise(extract(lineart, 3.0)), seed)
    assert encloses(rasterise(extract(lineart, 3.0, close_gaps=14)), seed)
    assert not encloses(np.zeros((SIZE, SIZE), bool), seed)
    strokes = extract(lineart, 3.0)
    assert loose_fragments(strokes, 15) == 1  # the dash alone: the ring and the T are longer
