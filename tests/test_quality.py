"""The shipped model must really clean sketches: these fail on an untrained network."""
import numpy as np
import pytest

from smart_lineart.engine.preprocess import grey_on_white, to_uint8
from smart_lineart.engine.tiling import Engine
from smart_lineart.settings import Settings
from tests.conftest import TEST_SEED
from training.evaluate import brush_properties, faint_response, guides
from training.metrics import compare, line_width
from training.synth import make_pair


@pytest.fixture(scope="module")
def engine(card):
    return Engine(card)


@pytest.fixture(scope="module")
def results(engine, card):
    rng = np.random.default_rng(TEST_SEED + 1)
    rows = []
    for _i in range(6):
        p = make_pair(rng, 384, brush=0, thickness=3.0, faint=card.default_faint)
        out = engine.run(to_uint8(grey_on_white(p.sketch)), Settings(3.0)).astype(np.float32) / 255
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
    grey = to_uint8(grey_on_white(p.sketch))
    per_px = {t: line_width(engine.run(grey, Settings(t)).astype(np.float32) / 255) / t for t in (1.5, 3, 6, 10)}
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
    kept = faint_response(engine, 3, 320)
    assert kept["0.2"] <= 0.05 and kept["0.25"] <= 0.1, kept
    assert kept["0.5"] >= 0.85 and kept["0.7"] >= 0.9, kept


def test_light_blue_guides_are_dropped(engine):
    res = guides(engine, 4, 320, blue=True)
    assert res["removed_share"] >= 0.95 and res["precision@2"] >= 0.9, res
