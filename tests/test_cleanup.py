"""Dropping the network's unsure fragments (engine/cleanup.py)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from smart_lineart.engine import cleanup


def _page() -> np.ndarray:
    page = np.full((120, 200), 255, np.uint8)
    page[20:22, 10:190] = 0  # a solid line: the page's main strokes
    page[40:42, 30:38] = 150  # a short grey fragment: goes
    page[60:62, 30:36] = 20  # a short solid dash (a blush mark): stays
    page[80:82, 10:190] = 150  # a long grey line: stays
    page[100:102, 30:38] = 150  # a short grey fragment touching the line below it: stays with it
    page[102:104, 20:150] = 0
    return page


def test_short_grey_fragments_go_and_meant_ink_stays() -> None:
    page = _page()
    before = page.copy()
    assert cleanup.drop_unsure(page, 2.0) == 1
    assert (page[40:42, 30:38] == 255).all()
    changed = page != before
    changed[40:42, 30:38] = False
    assert not changed.any()


def test_a_page_of_only_grey_ink_keeps_it() -> None:
    """Solid is relative to the page's main strokes: on a light page, light lines are the lines."""
    page = np.full((60, 60), 255, np.uint8)
    page[10:12, 10:16] = 150
    page[30:32, 5:55] = 150
    assert cleanup.drop_unsure(page, 2.0) == 0


def _reference(page: np.ndarray, thickness: float) -> np.ndarray:
    """The definition, on the whole page at once with scipy."""
    out = page.copy()
    lab, n = ndimage.label(page < cleanup.VISIBLE, np.ones((3, 3)))
    if not n:
        return out
    idx = np.arange(1, n + 1)
    darkest = np.asarray(ndimage.minimum(page, lab, idx))
    boxes = ndimage.find_objects(lab)
    tall = np.array([b[0].stop - b[0].start for b in boxes])
    wide = np.array([b[1].stop - b[1].start for b in boxes])
    limit = cleanup.limit_px(thickness)
    gone = (darkest > cleanup.solid_level(page)) & (tall < limit) & (wide < limit)
    out[np.isin(lab, idx[gone])] = 255
    return out


@pytest.mark.parametrize("seed", range(6))
def test_bands_give_the_whole_page_result(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random fragments of random darkness and size on a page cut into many bands."""
    monkeypatch.setattr(cleanup, "BAND_PIXELS", 4 * 4000)  # ~40 rows per band on a 100 px wide page
    rng = np.random.default_rng(seed)
    page = np.full((400, 100), 255, np.uint8)
    for _ in range(120):
        y, x = rng.integers(0, 400), rng.integers(0, 100)
        hh, ww = rng.integers(1, 30, 2)
        page[y:y + hh, x:x + ww] = rng.integers(0, 256)
    thickness = float(rng.choice([1.0, 2.0, 3.0]))
    want = _reference(page, thickness)
    cleanup.drop_unsure(page, thickness)
    assert (page == want).all()


def test_work_memory_stays_within_its_budget() -> None:
    """The worst page for run-length labelling (a checkerboard: every other pixel its own run,
    all one fragment) stays within the bytes per pixel the engine budgets for a band."""
    import tracemalloc
    page = (np.indices((2000, 700)).sum(0) % 2 * 255).astype(np.uint8)  # taller than a band
    tracemalloc.start()
    cleanup.drop_unsure(page, 1.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= cleanup.work_mb(700, 1.0) * (1 << 20), peak / cleanup.band_px(700, 1.0)
