"""The shipped model must really clean sketches: these fail on an untrained network."""
import numpy as np
import pytest

from smart_lineart.engine.preprocess import sketch_u8, to_uint8
from smart_lineart.engine.tiling import Engine
from smart_lineart.settings import Settings
from tests.conftest import TEST_SEED
from training.evaluate import brush_properties, faint_response
from training.metrics import compare, line_count, line_width
from training.synth import make_pair


@pytest.fixture(scope="module")
def engine(card):
    return Engine(card, whole_process=False)  # the cap on the engine's work, not on this test process


@pytest.fixture(scope="module")
def results(engine, card):
    rng = np.random.default_rng(TEST_SEED + 1)
    rows = []
    for _i in range(6):
        p = make_pair(rng, 384, brush=0, thickness=3.0, faint=card.default_faint)
        out = p.ink(engine, Settings(3.0))
        rows.append(compare(out, p.target))
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def test_output_matches_target_lines(results):
    assert results["f1@2"] >= 0.93 and results["f1@1"] >= 0.85, results
    assert results["precision@2"] >= 0.9 and results["recall@2"] >= 0.9, results


def test_output_has_requested_width(results):
    assert results["width_error"] < 0.15, results


def test_thickness_follows_request_linearly(engine):
    """Measured width per requested px stays within 20% of the 3 px ratio, from thin lines
    to thick ones drawn at half scale."""
    p = make_pair(np.random.default_rng(TEST_SEED + 3), 384, brush=0, thickness=10.0)  # gaps fit 10 px
    per_px = {t: line_width(p.ink(engine, Settings(t))) / t for t in (1.5, 3, 6, 10)}
    for _t, ratio in per_px.items():
        assert 0.8 <= ratio / per_px[3] <= 1.2, per_px


def test_lines_are_crisp(results):
    """Solid ink with anti-aliased edges: no more mid-grey than a clean render has, plus 30%."""
    assert results["crispness"] <= 1.3, results


def test_presets_are_measurably_different(engine):
    """Same sketches, same width: the inking pen tapers its ends, the brush pen swells and
    thins, the pencil is lighter than the fineliner."""
    props = brush_properties(engine, 3, 320)
    fine = props["fineliner"]
    assert props["inking-pen"]["end_to_middle"] < 0.9 * fine["end_to_middle"], props
    assert props["brush-pen"]["width_cv"] > 1.5 * fine["width_cv"], props
    assert props["pencil"]["darkness"] < 0.9 * fine["darkness"], props


def test_faint_lines_are_dropped_and_light_lines_kept(engine):
    """Default threshold: lines at <= 25% of the main strokes' darkness go, 50%+ ones stay."""
    # the card's sample (`make eval`): 36 drawings. Its first 16 alone put lineart-v21 at 0.118 kept
    # at 25% (lineart-v20 0.088), the 36 at 0.065 (0.053): a few drawings' half-kept lines swing it
    kept = faint_response(engine, 36, 320)
    assert kept["0.2"] <= 0.05 and kept["0.25"] <= 0.1, kept
    assert kept["0.5"] >= 0.85 and kept["0.7"] >= 0.9, kept


def test_light_blue_guides_are_dropped(engine):
    """A scanned pencil drawing over a non-photo-blue underdrawing (guides across the page, a
    big circle, a loose first rough a few px off the final lines): the blue goes, the pencil
    stays. (Random synthetic pages with blue, also photographed and JPEG-compressed, are
    measured by `make eval`: blue_guides in the card.)"""
    from smart_lineart.engine.morphology import dilate
    from training.curves import catmull_rom, ellipse_points, resample
    from training.synth import _blue_underdrawing, _draw, _sketch_strokes, render_target
    rng = np.random.default_rng(TEST_SEED + 13)
    size = 256
    curves = [(ellipse_points(np.array([128.0, 110.0]), 60, 45, 0.2, 0, 2 * np.pi), True),
              (catmull_rom(np.array([[40.0, 200], [100, 180], [160, 215], [220, 190]]), False), False),
              (catmull_rom(np.array([[95.0, 95], [110, 88], [125, 97]]), False), False),
              (catmull_rom(np.array([[135.0, 95], [150, 86], [165, 96]]), False), False)]
    guides = [resample(np.array([[0.0, 110], [255, 118]])), resample(np.array([[128.0, 0], [122, 255]]))]
    style = {"passes": [0.4, 0.6, 0.0, 0.0], "spread": 0.4, "overshoot": 1.5, "scratch": 0.0, "width": 1.4,
             "pass_darkness": (0.65, 0.88)}
    # a light pencil sketch: its strokes are hardly darker than the blue, whose colour must tell them apart
    strokes = [st for pts, closed in curves for st in _sketch_strokes(rng, pts, closed, style, 0.9)[0]]
    pencil = _draw(strokes, size, ss=3)[..., None]
    blue = _blue_underdrawing(rng, curves, guides, size, style)
    page = 0.96 * (1 - blue) * (1 - 0.45 * pencil * (1 - np.array([0.1, 0.1, 0.12])))
    page = np.clip(page + rng.normal(0, 0.006, page.shape), 0, 1).astype(np.float32)
    grey, plane = sketch_u8(page)  # as the CLI reads it: a model that takes the blue plane gets it
    out = engine.run(grey, Settings(3.0), blue=plane).astype(np.float32) / 255
    target = render_target(curves, size, 3.0, "fineliner")
    blue_only = (blue.mean(axis=2) > 0.05) & ~dilate(target < 0.5, 4)
    kept = float((out < 0.5)[blue_only].mean())
    res = compare(out, target)
    assert kept <= 0.05 and res["precision@2"] >= 0.95 and res["recall@2"] >= 0.9, (kept, res)


# ---------------------------------------------------------------- what real roughs need (issue 11)

def _line(p0, p1, width: float, darkness: float):
    from training.curves import resample
    from training.synth import Stroke
    pts = resample(np.array([p0, p1], np.float64))
    return Stroke(pts, np.full(len(pts), width), np.full(len(pts), darkness))


def _cross_section(out: np.ndarray, x: int, y0: int, y1: int) -> np.ndarray:
    return out[y0:y1, x - 10:x + 10].mean(axis=1)  # averaged along the lines


def test_spot_black_stays_filled(engine):
    """A pupil scribbled in with a pencil comes out solid black with a clean edge."""
    from training.curves import ellipse_points
    from training.figures import Fill
    from training.synth import _draw, _fill_mask, _scribble, _sketch_strokes
    rng = np.random.default_rng(TEST_SEED + 11)
    size = 160
    fill = Fill(ellipse_points(np.array([80.0, 80.0]), 14, 20, 0.3, 0, 2 * np.pi))
    style = {"passes": [0.2, 0.5, 0.3, 0.0], "spread": 0.8, "overshoot": 2.0, "scratch": 0.0, "width": 1.6,
             "pass_darkness": (0.65, 0.88)}
    strokes = _scribble(rng, fill, size, style, 0.95) + _sketch_strokes(rng, fill.outline, True, style, 0.95)[0]
    grey = to_uint8(1 - 0.8 * _draw(strokes, size, ss=3))
    out = engine.run(grey, Settings(3.0)).astype(np.float32) / 255
    inside = _fill_mask([Fill(ellipse_points(np.array([80.0, 80.0]), 10, 16, 0.3, 0, 2 * np.pi))], size, ss=1) > 0.5
    assert (out[inside] < 0.35).mean() >= 0.95, f"only {(out[inside] < 0.35).mean():.2f} of the pupil is solid"


def test_parallel_lines_stay_apart_and_passes_merge(engine):
    """Two confident lines 4 px apart stay two lines; two passes of one line 2 px apart become one."""
    from training.synth import _draw
    size = 96
    for gap, expect in ((4.0, 2), (2.0, 1)):
        a = _line((20, 48 - gap / 2), (76, 48 - gap / 2), 1.3, 0.95)
        b = _line((20, 48 + gap / 2), (76, 48 + gap / 2), 1.3, 0.95)
        grey = to_uint8(1 - _draw([a, b], size, ss=4))
        out = engine.run(grey, Settings(1.5)).astype(np.float32) / 255
        runs = line_count(_cross_section(out, 48, 38, 58) < 0.5)
        assert runs == expect, f"{gap} px apart: {runs} line(s), profile {np.round(_cross_section(out, 48, 38, 58), 2)}"


def test_passes_of_a_sketched_line_come_out_as_one(engine):
    """One line sketched in a random sketcher's passes on a random page, and one sketched as a
    loose sketcher's bundle of 3-6 passes (girl.png's hair), at 1.5 px (the eval card's
    `close_lines`, which also measures close doubles kept as two)."""
    from training.evaluate import close_lines
    res = close_lines(engine, 24)  # 6 sketches: lineart-v5 0.6-1.0 as the sample fell (one loose sketcher's pass 10 px off)
    assert res["passes_as_one"] >= 0.8, res
    # lineart-v52 0.57 over 400 sketches (0.59 over another 400), its int8 lineart-v58 0.57 on
    # these 24 (a small sample is off by up to 0.2: the old card's 36 gave lineart-v52 0.74); a network that keeps
    # a bundle's passes apart scores near 0
    assert res["bundle_as_one"] >= 0.5, res


def test_passes_that_part_merge_without_a_ghost(engine):
    """One line drawn twice, the passes parting 5-6 px over 60 px and meeting again, the second
    lighter (as on the right wall of real-pencil rough_house.png: 5-6.5 px, 0.73-0.88 of the
    first pass's darkness) comes out as one solid line, with no grey ghost line beside it."""
    from training.synth import Stroke, _draw
    x = np.arange(20.0, 141.0)
    meet = np.clip(np.minimum(x - 20, 140 - x) / 30, 0, 1)  # parted between x = 50 and 110
    for sep in (5.0, 6.0):
        first = _line((20, 80), (140, 80), 1.3, 0.95)
        second = Stroke(np.stack([x, 80 + sep * meet], 1), np.full(len(x), 1.3), np.full(len(x), 0.95 * 0.8))
        grey = to_uint8(1 - _draw([first, second], 160, ss=4))
        out = engine.run(grey, Settings(2.0)).astype(np.float32) / 255
        profile = _cross_section(out, 80, 70, 95)
        runs = line_count(profile < 0.8)  # a ghost counts from 20% grey
        assert runs == 1 and profile.min() <= 0.2, f"passes {sep} px apart: {runs} line(s), profile {np.round(profile, 2)}"


def test_faint_line_survives_on_a_dim_grey_photo(engine):
    """A light but intended pencil line (55% of the main strokes' darkness) on grey paper,
    photographed dim with vignetting, noise and JPEG, is kept at the default threshold."""
    import io

    from PIL import Image

    from training.synth import _draw
    rng = np.random.default_rng(TEST_SEED + 12)
    size = 256
    main = [_line((20, 40 + 30 * i), (236, 50 + 30 * i), 1.4, 0.9) for i in range(3)]
    faint = _line((30, 200), (226, 215), 1.4, 0.9 * 0.55)
    ink = _draw(main + [faint], size, ss=3) * 0.6  # soft graphite
    y, x = (np.mgrid[0:size, 0:size] / size - 0.5) * 2
    page = 0.62 * (1 - 0.3 * (x * x + y * y) / 2)  # grey paper, dim light, darker corners
    photo = np.clip(page * (1 - ink) + rng.normal(0, 0.01, ink.shape), 0, 1)
    buf = io.BytesIO()
    Image.fromarray(to_uint8(photo)).save(buf, "JPEG", quality=80)
    grey = np.asarray(Image.open(buf))
    out = engine.run(grey, Settings(2.0)).astype(np.float32) / 255
    on_line = _draw([faint], size, ss=2) > 0.4
    kept = (out < 0.5)[np.roll(on_line, 0)] | (out < 0.5)[np.roll(on_line, 1, axis=0)]
    assert kept.mean() >= 0.8, f"only {kept.mean():.2f} of the faint line survives"
