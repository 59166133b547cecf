import numpy as np
import pytest

from smart_lineart.engine.preprocess import BLOCK, grey_on_white, measure_levels, to_uint8


def px(*values: float) -> np.ndarray:
    return np.array(values, np.float32).reshape(1, 1, -1)


@pytest.mark.parametrize("rgb, luma", [
    ((1, 0, 0), 0.2126), ((0, 1, 0), 0.7152), ((0, 0, 1), 0.0722), ((1, 1, 1), 1.0), ((0, 0, 0), 0.0),
    ((0.8, 0.3, 0.3), 0.2126 * 0.8 + 0.7152 * 0.3 + 0.0722 * 0.3), ((0.3, 0.6, 0.2), 0.2126 * 0.3 + 0.7152 * 0.6 + 0.0722 * 0.2),
])
def test_luma_uses_rec709_weights_on_encoded_values(rgb, luma):
    assert grey_on_white(px(*rgb))[0, 0] == pytest.approx(luma, abs=1e-6)


def test_desaturation_is_not_hsv_value():
    # HSV value of pure blue is 1.0 (it would vanish as white); luma keeps it as dark ink
    assert grey_on_white(px(0, 0, 1))[0, 0] < 0.1


@pytest.mark.parametrize("rgb", [(0.64, 0.87, 0.93), (0.55, 0.8, 1.0), (0.6, 0.9, 0.97), (0.82, 0.93, 0.97)])
def test_light_blue_drops_out_as_paper(rgb):
    """Non-photo blue (full and half strength) reads as paper, also in a shadow."""
    for light in (1.0, 0.6):
        grey = grey_on_white(px(*(c * light for c in rgb)))[0, 0]
        assert grey >= 0.92 * light, (rgb, light, grey)


@pytest.mark.parametrize("rgb", [(0.1, 0.1, 0.5), (0.19, 0.19, 0.55), (0.3, 0.3, 0.3), (0.9, 1.0, 0.88)])
def test_graphite_deep_blue_and_tinted_paper_keep_luma(rgb):
    assert grey_on_white(px(*rgb))[0, 0] == pytest.approx(np.dot(rgb, [0.2126, 0.7152, 0.0722]), abs=1e-6)


@pytest.mark.parametrize("pixel, grey", [
    ((0, 0, 0, 0), 1.0),  # fully transparent: paper
    ((0, 0, 0, 1), 0.0),  # opaque black
    ((0, 0, 0, 0.5), 0.5),  # half-transparent black on white
    ((1, 0, 0, 0.5), 0.5 + 0.5 * 0.2126),
    ((0.2, 0.4), 0.68),  # grey + alpha
    ((0.3,), 0.3),
])
def test_alpha_composites_onto_white(pixel, grey):
    assert grey_on_white(px(*pixel))[0, 0] == pytest.approx(grey, abs=1e-6)


def test_to_uint8_rounds_and_clips():
    assert to_uint8(np.array([-0.5, 0.0, 0.5, 1.0, 2.0])).tolist() == [0, 0, 128, 255, 255]


def test_levels_flatten_uneven_paper_and_stretch_faint_pencil():
    h, w = 256, 384
    paper = np.linspace(0.6, 0.95, w, dtype=np.float32)[None, :].repeat(h, 0)  # a shadow across the page
    img = paper.copy()
    img[100:102, :] *= 0.6  # a light pencil line, 40% darker than the paper under it
    grey = to_uint8(img)
    out = measure_levels(grey).apply(grey, 0, 0)
    inner = slice(3 * BLOCK, w - 3 * BLOCK)
    assert np.abs(out[10:90, inner] - 1.0).max() < 0.06  # paper is white, shadow or not
    assert np.abs(out[10:90] - 1.0).max() < 0.15  # border cells: close
    assert out[100:102].mean() < 0.1  # the main stroke is full ink


def test_levels_of_blank_page_stay_white():
    grey = np.full((40, 40), 250, np.uint8)
    grey[5, 5] = 240  # a speck of noise must not be stretched into ink
    out = measure_levels(grey).apply(grey, 0, 0)
    assert out.min() > 0.8


def test_levels_apply_is_the_same_on_windows():
    rng = np.random.default_rng(0)
    grey = (rng.random((3 * BLOCK + 5, 5 * BLOCK + 3)) * 255).astype(np.uint8)
    lv = measure_levels(grey)
    whole = lv.apply(grey, 0, 0)
    np.testing.assert_allclose(lv.apply(grey[17:40, 23:70], 17, 23), whole[17:40, 23:70], atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_main_ink_is_measured_on_every_pixel_that_can_be_ink(seed):
    """measure_levels only measures pixels dark enough to be ink against the lightest paper
    they may lie on: the main strokes' darkness is that of measuring every pixel, on shadowed,
    tinted and blank-ish pages, pencil light or dark."""
    from smart_lineart.engine import preprocess
    rng = np.random.default_rng(seed)
    h, w = 300, 420
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    paper = rng.uniform(0.5, 1.0) - rng.uniform(0, 0.4) * (xx / w) * (yy / h)  # a shadow in a corner
    ink = rng.uniform(0.05, 0.9) * (rng.random((h, w)) < rng.uniform(0.01, 0.3))
    if seed >= 4:  # a hard shadow's edge, across or down; light pencil only where the paper turns
        across, edge = (xx, w / 2) if seed == 4 else (yy, h / 2)
        paper = np.where(across < edge, 0.4, 1.0)
        ink = 0.15 * ((np.abs(across - edge) < 40) & (rng.random((h, w)) < 0.5))
    grey = to_uint8(np.clip(paper * (1 - ink) + rng.normal(0, 0.02, (h, w)), 0, 1))
    lv = measure_levels(grey)
    darkness = 1.0 - preprocess.Levels(lv.background, 1.0).apply(grey, 0, 0)
    hist = np.bincount((darkness * 255.0).astype(np.uint8).ravel(), minlength=256)
    assert lv.ink == preprocess._main_ink_darkness(hist)
