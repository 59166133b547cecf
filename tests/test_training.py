"""The training side: model size limits, ONNX export fidelity, reproducible data, resumable runs."""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tests.conftest import ROOT  # noqa: E402
from training.figures import Shares  # noqa: E402
from training.model import SIZE_MULTIPLE, LineartNet, macs_per_pixel, receptive_field  # noqa: E402
from training.synth import BRUSHES, make_pair  # noqa: E402


def test_cost_per_pixel_within_budget():
    assert macs_per_pixel(LineartNet(len(BRUSHES))) <= 60_000


@pytest.mark.parametrize("context", [False, True])
def test_receptive_field_covers_measured_support(context):
    torch.manual_seed(0)
    m = LineartNet(len(BRUSHES), context=context).eval()
    if context:  # its last layer starts at zero: give the branch a say
        torch.nn.init.normal_(m.ctx.up.weight, 0, 0.05)
    x = torch.rand(1, 1, 576, 576, requires_grad=True)
    m(x, torch.full((1, 1), 3.0), torch.eye(len(BRUSHES))[:1], torch.full((1, 1), 0.3))[0, 0, 288, 288].backward()
    rows = (x.grad[0, 0].abs().sum(1) > 0).nonzero()
    support = int(rows.max() - rows.min() + 1)
    assert support <= receptive_field(m) < 2 * support


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_onnx_export_matches_torch_for_each_conditioning(tmp_path, backend):
    """The exported graph (residual additions folded into the convolutions) computes what the
    network does; OpenVINO, compiled for one conditioning at a time, gives each setting its own
    result when settings change back and forth."""
    from smart_lineart.engine import backends
    from training.export import export_onnx
    torch.manual_seed(0)
    m = LineartNet(len(BRUSHES)).eval()
    for name, p in m.named_parameters():  # FiLM starts at zero: give the conditioning a say
        if "film" in name:
            torch.nn.init.normal_(p, 0, 0.3)
    path = tmp_path / "m.onnx"
    export_onnx(m, path)
    x = np.random.default_rng(0).random((1, 1, 3 * SIZE_MULTIPLE, 5 * SIZE_MULTIPLE), dtype=np.float32)
    runner = backends.load(path, backend, "CPU", "f32" if backend == "openvino" else "")
    settings = [(4.0, 2, 0.3), (2.0, 0, 0.6), (4.0, 2, 0.3)]
    outs = []
    for thickness, brush, faint in settings:
        cond = {"thickness": np.full((1, 1), thickness, np.float32),
                "brush": np.eye(len(BRUSHES), dtype=np.float32)[brush:brush + 1],
                "faint": np.full((1, 1), faint, np.float32)}
        with torch.no_grad():
            ref = m(*(torch.from_numpy(v) for v in (x, cond["thickness"], cond["brush"], cond["faint"]))).numpy()
        outs.append(runner.run(x, cond).copy())
        np.testing.assert_allclose(outs[-1], ref, atol=1e-4)
    assert np.abs(outs[0] - outs[1]).max() > 1e-2


def test_synthesis_is_reproducible_and_guides_stay_out_of_target():
    a = make_pair(np.random.default_rng(5), 128)
    b = make_pair(np.random.default_rng(5), 128)
    np.testing.assert_array_equal(a.sketch, b.sketch)
    np.testing.assert_array_equal(a.target, b.target)
    assert not np.array_equal(a.target, make_pair(np.random.default_rng(6), 128).target)


def test_thin_share_inks_that_share_of_drawings_thin_and_leaves_the_rest_as_before():
    """`--thin-share`: that share of drawings is inked at widths from THIN_RANGE, the rest from
    the whole THICKNESS_RANGE; at 0 nothing more is drawn from the stream (held-out sets stay)."""
    from training.synth import THICKNESS_RANGE, THIN_RANGE
    rng = np.random.default_rng(3)
    widths = np.array([make_pair(rng, 64, shares=Shares(thin=0.5)).thickness for _ in range(60)])
    assert widths.min() >= THICKNESS_RANGE[0] and widths.max() <= THICKNESS_RANGE[1]
    # log-uniform over 1-8 px puts a third under 2 px; half thin on top of that: two thirds
    assert 0.5 <= np.mean(widths <= THIN_RANGE[1]) <= 0.85, np.round(widths, 1)
    plain = make_pair(np.random.default_rng(5), 128, shares=Shares(thin=0.0))
    np.testing.assert_array_equal(plain.target, make_pair(np.random.default_rng(5), 128).target)


def test_target_lines_know_how_they_were_sketched_and_the_eval_counts_misses_by_kind():
    """`make_pair` keeps each traced line's kind (LINE_KINDS), whose masks cover the target, so
    the eval's recall_by_kind can say which kind of line a model misses."""
    from training.evaluate import _by_kind, _tally_by_kind
    from training.synth import LINE_KINDS
    seen: set[str] = set()
    for seed in range(8):
        p = make_pair(np.random.default_rng(seed), 192, shares=Shares(beside=0.5))
        assert len(p.kinds) == len(p.lines) and set(p.kinds) <= set(LINE_KINDS)
        seen |= set(p.kinds)
        masks = p.kind_masks()
        ink = p.target < 0.75
        near = np.any([m for k, m in masks.items() if k != "ends"], axis=0)
        assert (ink & near).sum() >= 0.99 * ink.sum(), seed
        perfect: dict[str, list[int]] = {}
        _tally_by_kind(p, p.target, perfect)
        assert all(r["recall@2"] == 1.0 for r in _by_kind(perfect).values())
        if "light" in masks and (masks["light"] & ink).sum() > 100:  # leaving out the light lines misses them
            tally: dict[str, list[int]] = {}
            _tally_by_kind(p, np.where(masks["light"], 1.0, p.target), tally)
            res = _by_kind(tally)
            assert res["light"]["recall@2"] < 0.5 and res["light"]["share_of_misses"] == 1.0, res
            assert res["line"]["recall@2"] > 0.9, res
    assert {"line", "light", "gone_over", "hatching", "beside"} <= seen, seen


def test_debris_is_on_the_page_not_in_the_target():
    """Crumbs, flicks and smudges (what left specks on real roughs) are drawn, never traced."""
    from training.synth import _debris, _draw
    debris = _debris(np.random.default_rng(3), 256)
    assert len(debris) > 0
    assert _draw(debris, 256).max() > 0.2
    pair = make_pair(np.random.default_rng(5), 128)
    assert pair.target.min() < 0.5  # the drawing itself is traced


def test_venation_is_a_training_option_of_veins_kept_apart_and_ending_on_lines():
    """`--vein-share`: a wing or leaf with veins drawn small and close, once each. Neighbouring
    branches keep `thickness + 3` px apart, so the target keeps them apart; every vein starts on
    the spine or a branch and ends inside the outline. At 0 (the default: held-out set, tests)
    nothing more is drawn from the stream."""
    from training import figures
    a, b = np.random.default_rng(8), np.random.default_rng(8)
    plain = figures.details(a, 256, 150.0, 2.0)
    same = figures.details(b, 256, 150.0, 2.0, Shares(vein=0.0))
    assert len(plain.hatches) == len(same.hatches) and a.random() == b.random()
    rng = np.random.default_rng(9)
    for thickness in (1.5, 3.0, 6.0):
        out = figures.Details()
        figures.venation(rng, np.array([200.0, 200.0]), thickness, out)
        (outline, closed), = out.curves
        veins, = out.hatches
        assert closed and len(veins) >= 3
        spine, *others = veins
        ends = np.array([v[-1] for v in others])
        # branches and cross-veins end on the outline or a branch: a junction, not a loose end
        to_line = np.array([min(np.hypot(*(line - e).T).min() for line in [outline] + others if line is not v)
                            for v, e in zip(others, ends)])
        assert (to_line < 2.0).all()
        starts = np.array([v[0] for v in others])
        assert (np.array([min(np.hypot(*(line - s).T).min() for line in [spine] + others if line is not v)
                          for v, s in zip(others, starts)]) < 2.0).all()
        # branches leaving the spine on the same side keep more than the ink and 3 px apart
        branches = [v for v in others if np.hypot(*(spine - v[0]).T).min() < 2.0]
        heading = [(v[-1] - v[0]) / np.hypot(*(v[-1] - v[0])) for v in branches]
        apart = [np.hypot(*(v[:, None] - w[None]).transpose(2, 0, 1)).min()
                 for i, v in enumerate(branches) for j, w in enumerate(branches[i + 1:], i + 1)
                 if heading[i] @ heading[j] > 0.9]
        assert len(apart) >= 1
        assert min(apart) > thickness + 3
    pair = make_pair(np.random.default_rng(5), 256, thickness=2.0, shares=Shares(vein=1.0))
    assert not np.array_equal(pair.target, make_pair(np.random.default_rng(5), 256, thickness=2.0).target)


def test_beside_is_a_training_option_of_a_line_drawn_once_near_a_sketched_line():
    """`--beside-share`: a line sketched in the sketcher's passes and a line drawn once beside it,
    2.5-7.5 px of paper beyond the passes' reach (nearer than `min_gap`), both in the target. At
    0 (the default: held-out set, tests) nothing more is drawn from the stream."""
    from training import figures
    from training.synth import min_gap, pass_reach, render_sketch, sketch_style
    a, b = np.random.default_rng(8), np.random.default_rng(8)
    plain = figures.details(a, 256, 150.0, 2.0)
    same = figures.details(b, 256, 150.0, 2.0, Shares(), reach=5.0)
    assert len(plain.hatches) == len(same.hatches) and not same.beside and a.random() == b.random()
    rng = np.random.default_rng(10)
    style = dict(sketch_style(rng), spread=3.0, bundle=1.0)  # a loose hand that draws bundles
    reach = pass_reach(style, 2.0)
    out = figures.details(rng, 256, 150.0, 2.0, Shares(beside=1.0), reach=reach)
    (course, other), = out.beside
    apart = np.hypot(*(other[:, None] - course[None]).transpose(2, 0, 1)).min(axis=1)
    assert reach + 2.0 < apart.min() and apart.max() < reach + 8.0 < min_gap(style, 2.0)
    _, traced, _ = render_sketch(rng, [], [], 256, 0.4, style, False, out)
    assert len(traced) == len(out.restrokes) + 2 + sum(map(len, out.hatches)) + len(out.curves)
    pair = make_pair(np.random.default_rng(5), 256, thickness=2.0, shares=Shares(beside=1.0))
    assert not np.array_equal(pair.target, make_pair(np.random.default_rng(5), 256, thickness=2.0).target)


def test_fork_is_a_training_option_of_a_light_line_leaving_a_sketched_line():
    """`--fork-share`: a line sketched in the sketcher's passes and a light line drawn once that
    leaves it: one end on the line, the other further apart than a restroke's pass parts and
    than the passes reach; both whole in the target, the light one lighter than the line in the
    sketch but above the faint threshold."""
    from training import figures
    from training.synth import pass_reach, render_sketch, render_target, sketch_style
    a, b = np.random.default_rng(8), np.random.default_rng(8)
    plain = figures.details(a, 256, 150.0, 2.0)
    same = figures.details(b, 256, 150.0, 2.0, Shares(), reach=5.0)
    assert len(plain.hatches) == len(same.hatches) and not same.forks and a.random() == b.random()
    rng = np.random.default_rng(11)
    for thickness in (1.5, 4.0):
        style = sketch_style(rng)
        reach = pass_reach(style, thickness)
        out = figures.Details()
        for _ in range(20):
            figures.fork(rng, figures._gentle_arc(rng, np.array([128.0, 128.0])), reach, thickness, out)
        for line, branch in out.forks:
            apart = np.hypot(*(branch[:, None] - line[None]).transpose(2, 0, 1)).min(axis=1)
            assert apart[0] < 0.5  # its junction is on the line
            assert apart[-1] > max(reach + thickness / 2 + 3.0, thickness + 8.0) - 0.5 > 7.0  # beyond a restroke's pass
            assert np.all(np.diff(apart[len(apart) // 4:]) > -0.5)  # it parts, never comes back
    out = figures.Details(forks=[(np.stack([np.linspace(40, 216, 60), np.full(60, 120.0)], 1),
                                  np.stack([np.linspace(40, 216, 60), 120 + np.linspace(0, 14, 60) ** 1.5 / 14 ** 0.5], 1))])
    faint = 0.4
    sketch, traced, kinds = render_sketch(np.random.default_rng(3), [], [], 256, faint,
                                          dict(sketch_style(np.random.default_rng(4)), spread=0.5, bundle=0.0), False, out)
    assert kinds == ["fork", "fork"] and len(traced) == 2
    target = render_target(traced, 256, 2.0, "fineliner")
    column = target[:, 200]  # the branch is 12 px below the line there
    assert column[117:124].min() < 0.5 and column[129:136].min() < 0.5 and column[124:129].min() > 0.9
    ink = 1 - sketch[..., :3].mean(axis=2) if sketch.shape[2] == 3 else sketch[..., 3]
    line_dark, branch_dark = ink[115:125, 185:215].max(axis=0).mean(), ink[127:139, 185:215].max(axis=0).mean()
    assert 0.1 < branch_dark < 0.85 * line_dark, (branch_dark, line_dark)
    pair = make_pair(np.random.default_rng(5), 256, thickness=2.0, shares=Shares(fork=1.0))
    assert pair.kinds.count("fork") == 2
    near = np.any([m for k, m in pair.kind_masks().items() if k != "ends"], axis=0)
    assert (near & (pair.target < 0.75)).sum() >= 0.99 * (pair.target < 0.75).sum()  # the eval sees its misses


def test_thin_passes_scores_a_thin_pen_rough(card):
    """`evaluate.thin_passes`: recall and precision at 2 px of tidy one-pass roughs per pen width;
    the shipped model keeps nearly all of a 1.2 px pen's lines (lineart-v25: 0.98)."""
    from smart_lineart.engine.tiling import Engine
    from training.evaluate import THIN_PENS, thin_passes
    res = thin_passes(Engine(card, whole_process=False), 3, 192)
    assert list(res) == [f"{p:g}" for p in THIN_PENS]
    assert res["1.2"]["recall@2"] > 0.85 and res["1.2"]["precision@2"] > 0.85, res


def test_line_widths_leave_spot_blacks_out():
    """Mean width and width variation measure lines: a filled iris beside them changes neither."""
    from training.curves import resample
    from training.figures import Fill
    from training.metrics import line_width, local_widths
    from training.synth import render_target
    line = [(resample(np.array([[10.0, 20.0], [240.0, 200.0]])), False)]
    t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    disk = Fill(np.stack([180 + 18 * np.cos(t), 60 + 18 * np.sin(t)], 1), [])
    for w in (1.0, 1.5, 3.0):
        alone = line_width(render_target(line, 256, w, "fineliner"))
        assert line_width(render_target(line, 256, w, "fineliner", [disk])) == pytest.approx(alone, rel=0.03)
        assert alone == pytest.approx(w, rel=0.2)
        cv = [(lw.std() / lw.mean()) for lw in (local_widths(render_target(line, 256, w, "fineliner", fills))
                                                for fills in ([], [disk]))]
        assert cv[1] == pytest.approx(cv[0], abs=0.02), cv


def test_stop_after_ends_a_stage_early_on_its_own_schedule():
    from training.train import _finished, parser
    a = parser().parse_args(["--run", "r", "--minutes", "120", "--stop-after", "54"])
    state = {"seconds": 54.5 * 60, "since_best": 0}
    assert _finished(state, a) and a.minutes == 120  # the learning-rate schedule still spans 120 min
    assert not _finished(state, parser().parse_args(["--run", "r", "--minutes", "120"]))


def test_bundle_span_classes_measure_first_to_last_inked_pixel():
    """The bundle measure's classes (`evaluate.span_class`): the ink's extent across the
    section, first to last pixel darker than BUNDLE_INK, whatever lies between."""
    from training.evaluate import BUNDLE_INK, span_class
    section = np.ones(41, np.float32)
    assert span_class(section) == "0-10"
    section[[15, 24]] = BUNDLE_INK - 0.05  # two passes 10 px apart end to end, paper between
    assert span_class(section) == "10-14"
    section[28] = BUNDLE_INK + 0.05  # lighter than the ink level: not counted
    assert span_class(section) == "10-14"
    section[27] = 0.0
    assert span_class(section) == "10-14"  # 13 px wide
    section[28] = 0.0
    assert span_class(section) == "14+"  # 14 px wide starts the next class


def test_gaps_open_counts_the_paper_between_close_lines():
    """Two lines 4 px apart: kept apart, their gap is open; merged into one, it is filled; a lone
    line has no gap to count."""
    from training.metrics import compare, gaps_open
    target = np.ones((64, 64), np.float32)
    target[20, 8:56] = target[24, 8:56] = 0.0
    merged = target.copy()
    merged[21:24, 8:56] = 0.0
    assert gaps_open([compare(target, target)]) == 1.0
    assert gaps_open([compare(merged, target)]) == 0.0
    lone = np.ones((64, 64), np.float32)
    lone[40, 8:56] = 0.0
    assert compare(lone, lone)["gap_px"] == 0
    assert gaps_open([compare(merged, target), compare(lone, lone)]) == 0.0


def test_thin_coverage_scores_thin_lines_that_break_or_go_grey():
    from training.metrics import thin_coverage
    thick = np.ones((64, 64), np.float32)
    thick[19:22, 8:56] = 0.0  # a 3 px line
    solid, broken, grey = (np.ones((64, 64), np.float32) for _ in range(3))
    solid[20:22, 8:56] = broken[20:22, 8:32] = 0.0  # 2 px: whole, half of it
    grey[20:22, 8:56] = 0.6
    assert thin_coverage(solid, thick) == 1.0 and thin_coverage(grey, thick) == 0.0
    assert thin_coverage(broken, thick) == pytest.approx(0.5, abs=0.1)


def test_real_roughs_sheet_and_scores(tmp_path):
    """`training.real` on a folder with one rough and its clean drawing: a sheet row, the pair
    scored against the clean drawing and the thin lines covered (a tidy rough: high on both)."""
    from PIL import Image
    clean = np.full((160, 192), 255, np.uint8)
    clean[40:42, 20:170] = clean[60:140, 96:98] = 0
    rough = clean.copy()
    rough[rough == 0] = 90  # two pencil passes
    rough[43, 20:170] = rough[60:140, 99] = 120
    Image.fromarray(clean).save(tmp_path / "clean_t.png")
    Image.fromarray(rough).save(tmp_path / "rough_t.png")
    from smart_lineart.engine.model_card import load_card
    model = tmp_path / "model"  # a copy, whose card the run writes into
    model.mkdir()
    for f in (load_card().path, load_card().path.with_suffix(".json")):
        shutil.copy(f, model)
    onnx_copy = model / load_card().path.name
    res = subprocess.run([sys.executable, "-m", "training.real", "--model", str(onnx_copy), "--card",
                          "--sheet", str(tmp_path / "s.png"), str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    scores = json.loads(res.stdout[res.stdout.index("{"):res.stdout.rindex("}") + 1])
    assert json.loads(onnx_copy.with_suffix(".json").read_text())["metrics"]["real_roughs"] == scores
    assert scores["thin_coverage"]["rough_t"] > 0.9, scores
    assert scores[tmp_path.name]["rough_t"]["f1@2"] > 0.9, scores
    found = scores["specks_at_px"]
    assert found["widths"] == [1.5, 2.0, 3.0] and found["total"] == found["median"] == found["rough_t"], found
    assert Image.open(tmp_path / "s.png").height == 306  # one row


def test_a_clean_drawing_is_registered_onto_its_rough():
    """The pencil pairs' clean drawings were drawn separately: shifted and scaled a little against
    the rough. Registration finds the move from the rough's own lines and undoes it."""
    from training.real import register
    rough = np.full((200, 240), 255, np.uint8)
    rough[50:52, 30:200] = rough[60:170, 120:122] = rough[150:152, 40:110] = 90  # pencil lines
    clean = np.ones(rough.shape, np.float32)
    clean[56:58, 23:193] = clean[66:176, 113:115] = clean[156:158, 33:103] = 0.0  # 6 px down, 7 px left
    moved, how = register(clean, rough)
    assert how == {"scale": 1.0, "dy": -6, "dx": 7}, how
    assert (moved < 0.5).sum() == (clean < 0.5).sum() and ((moved < 0.5) <= (rough < 200)).all()
    aligned, how = register(np.where(rough < 200, 0.0, 1.0).astype(np.float32), rough)
    assert how == {"scale": 1.0, "dy": 0, "dx": 0}


def test_specks_are_small_ink_blobs_only():
    from training.real import specks
    page = np.ones((60, 80), np.float32)
    page[10, 5:70] = 0.0  # a line: 65 px of ink
    page[30:33, 30:33] = 0.0  # a 9 px dot
    page[50:54, 60:64] = 0.3  # a 16 px grey blob, still ink
    page[40:45, 10:15] = 0.0  # 25 px: a small mark, not a speck
    assert specks(page) == 2


def _cond() -> dict[str, np.ndarray]:
    return {"thickness": np.full((1, 1), 4, np.float32), "brush": np.eye(len(BRUSHES), dtype=np.float32)[2:3],
            "faint": np.full((1, 1), 0.3, np.float32)}


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "context"])
def two_plane_model(request, tmp_path_factory):
    """A random 2-plane model (with and without a context branch), exported, with a card the
    engine reads."""
    from training.export import export_onnx
    torch.manual_seed(0)
    m = LineartNet(len(BRUSHES), planes=2, context=request.param).eval()
    for p in m.parameters():  # FiLM and the context branch start at zero: give every layer a say
        torch.nn.init.normal_(p, 0, 0.05) if p.dim() < 2 else None
    path = tmp_path_factory.mktemp("m2") / "m2.onnx"
    export_onnx(m, path)
    card = {"name": "m2", "brushes": list(BRUSHES), "thickness_range": [1, 12], "network_thickness_range": [1, 8],
            "receptive_field": receptive_field(m), "size_multiple": m.size_multiple, "bytes_per_pixel": 400.0,
            "default_faint": 0.3, "image_planes": 2}
    path.with_suffix(".json").write_text(json.dumps(card))
    return m, path


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_two_plane_model_takes_blue_and_grey_only_images(two_plane_model, backend):
    """The blue plane changes the result; a grey-only (1-plane) image, as the contract has
    it, reads as no blue."""
    from smart_lineart.engine import backends
    m, path = two_plane_model
    rng = np.random.default_rng(0)
    x = rng.random((1, 2, 3 * m.size_multiple, 5 * m.size_multiple), dtype=np.float32)
    cond = _cond()
    with torch.no_grad():
        ref = m(*(torch.from_numpy(v) for v in (x, cond["thickness"], cond["brush"], cond["faint"]))).numpy()
    runner = backends.load(path, backend, "CPU", "f32" if backend == "openvino" else "")
    np.testing.assert_allclose(runner.run(x, cond), ref, atol=1e-4)
    no_blue = x.copy()
    no_blue[:, 1] = 0
    grey_only = runner.run(np.ascontiguousarray(x[:, :1]), cond).copy()
    np.testing.assert_allclose(grey_only, runner.run(no_blue, cond), atol=1e-5)
    assert np.abs(grey_only - ref).max() > 1e-3


def test_engine_feeds_the_blue_plane_without_seams(two_plane_model):
    """Tiles read the blue plane like the grey one: small tiles give the whole-image result,
    and a blue plane of zeros is the same as none."""
    from smart_lineart.engine.model_card import load_card
    from smart_lineart.engine.tiling import Engine
    from smart_lineart.settings import Settings
    _, path = two_plane_model
    rng = np.random.default_rng(1)
    grey = (255 - 200 * (rng.random((150, 170)) < 0.05)).astype(np.uint8)
    blue = (80 * (rng.random((150, 170)) < 0.1)).astype(np.uint8)
    card = load_card(path)
    whole = Engine(card, "onnxruntime", tile=256, whole_process=False).run(grey, Settings(3.0), blue=blue)
    tiled = Engine(card, "onnxruntime", tile=32, whole_process=False).run(grey, Settings(3.0), blue=blue)
    assert np.array_equal(whole, tiled)
    engine = Engine(card, "onnxruntime", whole_process=False)
    assert np.array_equal(engine.run(grey, Settings(3.0), blue=np.zeros_like(blue)), engine.run(grey, Settings(3.0)))
    assert not np.array_equal(engine.run(grey, Settings(3.0)), whole)
    thick = engine.run(grey, Settings(10.0), blue=blue)  # half scale: the blue plane is shrunk too
    assert thick.shape == grey.shape and not np.array_equal(thick, engine.run(grey, Settings(10.0)))


def test_a_narrow_one_plane_model_starts_a_wider_two_plane_one_as_it_was(tmp_path):
    from training.model import from_state, shape_of
    from training.train import initial_weights
    torch.manual_seed(0)
    one = LineartNet(len(BRUSHES)).eval()
    for p in one.parameters():  # trained FiLM is not identity: make every weight count
        torch.nn.init.normal_(p, std=0.05)
    torch.save({"model": one.state_dict()}, tmp_path / "one.pt")
    wide = LineartNet(len(BRUSHES), (32, 64, 96, 160), planes=2).eval()
    wide.load_state_dict(initial_weights(str(tmp_path / "one.pt"), wide))
    assert shape_of(wide.state_dict()) == ((32, 64, 96, 160), 2)
    assert shape_of(from_state(wide.state_dict(), len(BRUSHES)).state_dict()) == ((32, 64, 96, 160), 2)
    x = torch.rand(2, 2, 64, 64)
    cond = (torch.full((2, 1), 3.0), torch.eye(len(BRUSHES))[:2], torch.full((2, 1), 0.3))
    with torch.no_grad():
        assert torch.allclose(wide(x, *cond), one(x[:, :1], *cond), atol=1e-5)
    # the added channels learn: what reads them gets a gradient at once
    wide(x, *cond, logits=True).square().mean().backward()
    assert wide.d1.a.weight.grad[:, 24:32].abs().sum() > 0 and wide.out.weight.grad[:, 24:].abs().sum() > 0
    assert wide.e1.a.weight.grad[:, 4:].abs().sum() > 0  # and the blue plane
    # a context branch added the same way starts at zero, survives a checkpoint round trip, and learns
    deep = LineartNet(len(BRUSHES), (32, 64, 96, 160), planes=2, context=True).eval()
    deep.load_state_dict(initial_weights(str(tmp_path / "one.pt"), deep))
    assert from_state(deep.state_dict(), len(BRUSHES)).ctx is not None and deep.size_multiple == 2 * SIZE_MULTIPLE
    with torch.no_grad():
        assert torch.allclose(deep(x, *cond), one(x[:, :1], *cond), atol=1e-5)
    deep(x, *cond, logits=True).square().mean().backward()
    assert deep.ctx.up.weight.grad.abs().sum() > 0


def test_training_runs_checkpoints_and_resumes(tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "training.train", "--run", str(run), "--minutes", "0.05", "--size", "64",
           "--batch", "2", "--workers", "0", "--val-every", "3"]
    res = subprocess.run(cmd + ["--stop-after", "0.02"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    # the stage began on another machine: the card's hardware says so and from which step this one ran it
    ck = torch.load(run / "last.pt", weights_only=False)
    ck["state"]["hardware"] = "64-core CPU, bf16 autocast"
    torch.save(ck, run / "last.pt")
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "resumed at step" in res.stdout
    assert (run / "last.pt").exists() and (run / "best.pt").exists()
    ran = torch.load(run / "last.pt", weights_only=False)["state"]["hardware"]
    assert re.fullmatch(rf"64-core CPU, bf16 autocast; {os.cpu_count()}-core CPU, (bf16 autocast|fp32) "
                        rf"from step {ck['state']['step']}", ran), ran
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert log and all(np.isfinite(r["val"]) for r in log)


def test_second_stage_starts_from_first_and_card_lists_both(tmp_path):
    from training.export import training_stages
    base = [sys.executable, "-m", "training.train", "--minutes", "0.05", "--size", "64", "--batch", "2",
            "--workers", "0", "--val-every", "3"]
    first, second = tmp_path / "first", tmp_path / "second"
    subprocess.run(base + ["--run", str(first)], check=True, capture_output=True, cwd=ROOT)
    res = subprocess.run(base + ["--run", str(second), "--init", str(first / "best.pt"), "--lr", "5e-4", "--seed", "2"],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "starting from the weights" in res.stdout
    stages = training_stages(second)
    assert [s["seed"] for s in stages] == [1, 2]
    assert f"--run {first.as_posix()}" in stages[0]["command"] and "--init" not in stages[0]["command"]
    assert f"--init {first / 'best.pt'}" in stages[1]["command"] and "--lr 0.0005" in stages[1]["command"]
    assert all(s["steps"] > 0 for s in stages)


def test_mark_weight_makes_kept_construction_lines_cost_like_line_errors():
    from training.train import loss_fn
    target = torch.ones(1, 1, 64, 64)
    target[..., 10, :] = 0.0  # the lineart: one line
    image = torch.ones(1, 1, 64, 64)
    image[..., 10, :] = 0.0
    image[..., 40, :] = 0.3  # a construction line, not in the target
    good = torch.where(target < 0.5, -8.0, 8.0)
    on_mark, elsewhere = good.clone(), good.clone()
    on_mark[..., 40, :] = -8.0  # keeps the construction line
    elsewhere[..., 55, :] = -8.0  # the same number of stray pixels on blank paper
    assert loss_fn(on_mark, target, image) == pytest.approx(float(loss_fn(elsewhere, target, image)), rel=1e-5)
    assert loss_fn(on_mark, target, image, 4.0) > 3 * loss_fn(elsewhere, target, image, 4.0)


def test_gap_weight_makes_filling_between_close_lines_cost_more():
    from training.train import loss_fn
    target = torch.ones(1, 1, 64, 64)
    target[..., 20, 8:56] = 0.0  # two lines 4 px apart (3 px of paper between)
    target[..., 24, 8:56] = 0.0
    image = target.clone()
    good = torch.where(target < 0.5, -8.0, 8.0)
    filled, beside = good.clone(), good.clone()
    filled[..., 22, 8:56] = -8.0  # the two lines merged into one
    beside[..., 26, 8:56] = -8.0  # the same number of pixels too many outside the pair
    assert loss_fn(filled, target, image) == pytest.approx(float(loss_fn(beside, target, image)), rel=1e-5)
    assert loss_fn(filled, target, image, gap_weight=8.0) > 2 * loss_fn(beside, target, image, gap_weight=8.0)


def test_ghost_weight_makes_a_pass_kept_beside_its_line_cost_more():
    from training.train import loss_fn
    target = torch.ones(1, 1, 64, 64)
    target[..., 20, 8:56] = 0.0  # the line the inker traced
    image = target.clone()
    image[..., 25, 8:56] = 0.25  # a lighter pass 5 px beside it, not traced
    good = torch.where(target < 0.5, -8.0, 8.0)
    ghost, elsewhere = good.clone(), good.clone()
    ghost[..., 25, 8:56] = -8.0  # the pass drawn as a second line
    elsewhere[..., 50, 8:56] = -8.0  # the same number of pixels too many on blank paper
    assert loss_fn(ghost, target, image) == pytest.approx(float(loss_fn(elsewhere, target, image)), rel=1e-5)
    assert loss_fn(ghost, target, image, ghost_weight=8.0) > 2 * loss_fn(elsewhere, target, image, ghost_weight=8.0)


def test_unmarked_weight_makes_a_line_left_out_between_passes_cost_more():
    """The line an inker draws between two passes, where the sketch has no mark: left out, it
    costs more with `unmarked_weight` than a line left out where the sketch has it."""
    from training.train import loss_fn
    target = torch.ones(1, 1, 64, 64)
    target[..., 20, 8:56] = 0.0  # traced between the passes at rows 17 and 23
    target[..., 45, 8:56] = 0.0  # traced on its one pass
    image = torch.ones(1, 1, 64, 64)
    image[..., 17, 8:56] = image[..., 23, 8:56] = image[..., 45, 8:56] = 0.0
    good = torch.where(target < 0.5, -8.0, 8.0)
    between, on_pass = good.clone(), good.clone()
    between[..., 20, 8:56] = 8.0
    on_pass[..., 45, 8:56] = 8.0
    weights = {"ghost_weight": 32.0, "mark_weight": 4.0}
    assert loss_fn(between, target, image, **weights) == pytest.approx(float(loss_fn(on_pass, target, image, **weights)),
                                                                        rel=1e-5)
    assert loss_fn(between, target, image, unmarked_weight=16.0, **weights) > \
        3 * loss_fn(on_pass, target, image, unmarked_weight=16.0, **weights)


def test_shift_makes_a_solid_line_a_pixel_off_cheaper_than_a_grey_hedge():
    """Exactly compared, a 2 px line drawn one pixel off costs more than a grey band over both
    places: where the line's place is unsure the network draws grey. With `shift` the line a
    pixel off costs what the exact line costs, while a fattened line and two close lines merged
    into one cost what they did."""
    from training.train import loss_fn
    target = torch.ones(1, 1, 64, 64)
    target[..., 20:22, 8:56] = 0.0
    image = target.clone()
    exact = torch.where(target < 0.5, -8.0, 8.0)
    off, grey, fat = (torch.full_like(target, 8.0) for _ in range(3))
    off[..., 21:23, 8:56] = -8.0
    grey[..., 19:23, 8:56] = 0.0
    fat[..., 19:23, 8:56] = -8.0
    cost = {k: [float(loss_fn(z, target, image, 4, 8, 8, shift=s)) for s in (0, 1)]
            for k, z in (("exact", exact), ("off", off), ("grey", grey), ("fat", fat))}
    assert cost["off"][0] > 3 * cost["grey"][0], cost
    assert cost["off"][1] == pytest.approx(cost["exact"][1]) and cost["off"][1] < cost["grey"][1] / 100, cost
    assert cost["fat"][1] == pytest.approx(cost["fat"][0], rel=1e-4), cost
    double = torch.ones(1, 1, 64, 64)
    double[..., 20, 8:56] = double[..., 24, 8:56] = 0.0  # two lines 4 px apart
    merged = torch.full_like(double, 8.0)
    merged[..., 21:24, 8:56] = -8.0
    kept = torch.where(double < 0.5, -8.0, 8.0)
    for s in (1, 2):
        assert loss_fn(merged, double, double, gap_weight=8, shift=s) > 100 * loss_fn(kept, double, double, gap_weight=8, shift=s)
    # shift 2, F1@2's tolerance: a line two pixels off costs what the exact one costs, three do not
    off2, off3 = torch.full_like(target, 8.0), torch.full_like(target, 8.0)
    off2[..., 22:24, 8:56] = off3[..., 23:25, 8:56] = -8.0
    assert float(loss_fn(off2, target, image, 4, 8, 8, shift=2)) == pytest.approx(float(loss_fn(exact, target, image, 4, 8, 8, shift=2)))
    assert loss_fn(off3, target, image, 4, 8, 8, shift=2) > 100 * loss_fn(exact, target, image, 4, 8, 8, shift=2)


def test_output_levels_per_brush_from_export_flags():
    from training.export import output_levels
    lv = output_levels(["0.2,0.85", "pencil=0.1,0.95"])
    assert lv == {b: [0.1, 0.95] if b == "pencil" else [0.2, 0.85] for b in BRUSHES}
    assert output_levels([]) == {b: [0.0, 1.0] for b in BRUSHES}
    with pytest.raises(SystemExit):
        output_levels(["crayon=0.1,0.9"])


def test_critic_learns_to_tell_grey_hedges_from_solid_lines():
    """What the adversarial term is for: after a little training on (sketch, solid lines) as real
    and (sketch, the same lines grey) as the network's, passing the critic costs a grey hedge
    more than solid lines, also at places it was not trained on."""
    from training.critic import Critic, critic_loss, passing_loss
    from training.model import conditions
    torch.manual_seed(0)

    def page(y0: int, darkness: float) -> torch.Tensor:
        img = torch.zeros(1, 1, 64, 64)
        img[..., y0, 8:56] = img[..., y0 + 4, 8:56] = darkness  # two lines 4 px apart
        return img

    cond = conditions(torch.full((1, 1), 1.5), torch.eye(len(BRUSHES))[:1], torch.full((1, 1), 0.4))
    critic = Critic(cond.shape[1])
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.999))
    for step in range(150):
        y0 = 10 + step % 30
        loss = critic_loss(critic, page(y0, 0.9), page(y0, 1.0), page(y0, 0.45), cond)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        solid, grey = (float(passing_loss(critic, page(45, 0.9), page(45, d), cond)) for d in (1.0, 0.45))
    assert grey > 4 * solid, (grey, solid)


def test_adversarial_stage_checkpoints_its_critic_and_resumes(tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "training.train", "--run", str(run), "--minutes", "0.05", "--size", "64",
           "--batch", "2", "--workers", "0", "--val-every", "3", "--adv-weight", "0.05"]
    for _ in range(2):
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        assert res.returncode == 0, res.stderr
    assert "resumed at step" in res.stdout
    ck = torch.load(run / "last.pt", weights_only=False)
    assert set(ck) >= {"critic", "critic_opt"}
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert log and all(np.isfinite(r["critic"]) and np.isfinite(r["passing"]) for r in log if "critic" in r)
    assert any("critic" in r for r in log)


def test_the_adversarial_term_grows_in_while_the_critic_learns():
    from training.train import ADV_RAMP, adversarial_share
    shares = [adversarial_share(s) for s in (0, ADV_RAMP // 2, ADV_RAMP, 10 * ADV_RAMP)]
    assert shares == [0.0, 0.5, 1.0, 1.0], shares
    assert adversarial_share(0, ramp=0) == 1.0  # a critic trained in an earlier stage


def test_a_stage_continues_the_critic_and_ships_its_moving_average(tmp_path):
    from training.export import run_weights, training_stages
    base = [sys.executable, "-m", "training.train", "--size", "64", "--batch", "2",
            "--workers", "0", "--val-every", "3", "--adv-weight", "0.05"]
    first, second = tmp_path / "first", tmp_path / "second"
    subprocess.run(base + ["--run", str(first), "--minutes", "0.05"], check=True, capture_output=True, cwd=ROOT)
    # patience out of reach: on an idle machine the tiny stage could stop on it and the resume add no step
    cmd = base + ["--run", str(second), "--init", str(first / "last.pt"), "--ema", "0.5", "--seed", "2", "--patience", "1000"]
    res = subprocess.run(cmd + ["--minutes", "0.15"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "and the critic trained with them" in res.stdout
    ck = torch.load(second / "last.pt", weights_only=False)
    assert ck["state"]["ramp"] == 0 and int(ck["ema"]["n_averaged"]) == ck["state"]["step"] > 1
    shipped = run_weights(second)
    assert shipped.keys() == ck["model"].keys()
    assert any(not torch.equal(shipped[k], ck["model"][k]) for k in shipped)  # the average, not the last weights
    more = ck["state"]["seconds"] / 60 + 0.01  # at least one step more, however slow the machine
    res = subprocess.run(cmd + ["--minutes", f"{more}"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0 and "resumed at step" in res.stdout, res.stderr
    again = torch.load(second / "last.pt", weights_only=False)
    assert int(again["ema"]["n_averaged"]) == again["state"]["step"] > ck["state"]["step"]
    assert not (second / "best.pt").exists()  # a moving-average stage ships its last average only
    stage = training_stages(second)[-1]
    assert stage["best_step"] <= again["state"]["step"] and np.isfinite(stage["best_val_loss"])


def test_a_soup_stage_averages_one_lines_stages_and_continues_like_a_trained_one(tmp_path):
    from training.export import run_weights, training_stages
    from training.recipe import commands
    base = [sys.executable, "-m", "training.train", "--size", "64", "--batch", "2", "--workers", "0",
            "--val-every", "3", "--adv-weight", "0.05", "--ema", "0.5", "--minutes", "0.05"]
    first, second, other, soup, after = (tmp_path / n for n in ("first", "second", "other", "soup", "after"))
    subprocess.run(base + ["--run", str(first)], check=True, capture_output=True, cwd=ROOT)
    subprocess.run(base + ["--run", str(second), "--init", str(first / "last.pt"), "--seed", "2"],
                   check=True, capture_output=True, cwd=ROOT)
    subprocess.run(base + ["--run", str(other), "--seed", "3"], check=True, capture_output=True, cwd=ROOT)
    stray = commands({"stages": [{"run": str(soup), "average": [str(other / "last.pt"), str(second / "last.pt")]}]}, "train")
    res = subprocess.run(stray[0], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode != 0 and "not among the stages" in res.stderr and not soup.exists()
    [cmd] = commands({"stages": [{"run": str(soup), "average": [str(first / "last.pt"), str(second / "last.pt")]}]}, "train")
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    mean, a, b = run_weights(soup), run_weights(first), run_weights(second)
    assert all(torch.allclose(mean[k], (a[k] + b[k]) / 2) for k in mean if mean[k].is_floating_point())
    assert any(not torch.equal(a[k], b[k]) for k in a)
    stages = training_stages(soup)
    assert [s["seed"] for s in stages] == [1, 2, 2] and stages[-1]["command"].startswith("python -m training.soup")
    assert np.isfinite(stages[-1]["best_val_loss"]) and stages[-1]["steps"] == 0
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert "nothing to do" in res.stdout  # finished: the recipe walks past it
    res = subprocess.run(base + ["--run", str(after), "--init", str(soup / "last.pt"), "--seed", "4"],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0 and "and the critic trained with them" in res.stdout, res.stderr
    assert [s["seed"] for s in training_stages(after)] == [1, 2, 2, 4]


def test_distillation_keeps_a_stage_close_to_the_model_it_starts_from(tmp_path, monkeypatch):
    """`--distil-weight`: the output is also pulled toward the --init model's as it ships (its
    moving average), so a stage training it on (in int8) keeps its ways; at a high learning
    rate a plain stage wanders off. Each stage takes the same steps: a step's clock is a second."""
    from training import train
    from training.export import run_weights
    from training.model import LineartNet
    base = ["train", "--size", "64", "--batch", "2", "--workers", "0", "--val-every", "10"]
    clock = iter(range(10 ** 6))
    monkeypatch.setattr(train.time, "time", lambda: float(next(clock)))
    first = tmp_path / "first"
    monkeypatch.setattr(sys, "argv", base + ["--run", str(first), "--minutes", "0.5", "--ema", "0.5"])
    train.main()
    x, _, *cond = train.validation_set(8, 64, seed=3)[0]

    def output(weights: dict) -> torch.Tensor:
        net = LineartNet(len(BRUSHES)).eval()
        net.load_state_dict(weights)
        with torch.no_grad():
            return torch.sigmoid(net(x, *cond, logits=True))

    taught = output(run_weights(first))
    apart = {}
    for weight in ("0", "1000"):
        run = tmp_path / f"distil{weight}"
        monkeypatch.setattr(sys, "argv", base + ["--run", str(run), "--init", str(first / "last.pt"), "--seed", "2",
                                                 "--lr", "0.5", "--minutes", "0.5", "--distil-weight", weight])
        train.main()
        apart[weight] = float((output(torch.load(run / "last.pt", weights_only=False)["model"]) - taught).abs().mean())
    assert apart["1000"] < 0.2 * apart["0"], apart  # 0.009 and 0.377 here


def _record_drawn_strokes(monkeypatch) -> list:
    """The stroke lists `synth._draw` renders, in order (page debris left out)."""
    from training import synth
    drawn: list = []
    draw = synth._draw
    monkeypatch.setattr(synth, "_draw", lambda strokes, size, ss=synth.SS: drawn.append(strokes) or draw(strokes, size, ss))
    monkeypatch.setattr(synth, "_debris", lambda rng, size: [])
    return drawn


def test_a_restroked_line_is_one_target_line_and_a_double_two(monkeypatch):
    """What tells one line from two in the data: a line gone over once more, the second pass
    parting 3-7 px and meeting it again (lighter in pencil, as dark with a digital brush), is
    one line in the target, on the committed pass; a close double drawn once per line, as dark
    as each other, is two."""
    from training import synth
    from training.curves import resample
    from training.figures import Details
    from training.metrics import line_count
    drawn = _record_drawn_strokes(monkeypatch)
    x = np.linspace(20.0, 140.0, 60)
    for seed in range(8):
        rng = np.random.default_rng(seed)
        style = dict(synth.sketch_style(rng), width=1.2)
        for extra, lines in ((Details(restrokes=[resample(np.stack([x, np.full_like(x, 80.0)], 1))]), 1),
                             (Details(hatches=[[resample(np.stack([x, np.full_like(x, y)], 1)) for y in (77.0, 83.0)]]), 2)):
            drawn.clear()
            _, traced, _ = synth.render_sketch(rng, [], [], 160, 0.3, style, False, extra)
            middle = [(float(st.pts[m, 1].mean()), float(st.darkness[m].mean())) for st in drawn[0]
                      for m in [(st.pts[:, 0] > 70) & (st.pts[:, 0] < 90) & (np.abs(st.pts[:, 1] - 80) < 12)] if m.any()]
            assert len(middle) == 2, (seed, middle)  # two passes, or two lines
            target = synth.render_target(traced, 160, 1.5, synth.BRUSHES[0])[60:101, 70:91].mean(1)
            assert line_count(target < 0.5) == lines, (seed, lines, np.round(target, 2))
            if lines == 1:  # the committed pass runs on the line, the second parts from it
                (y_line, dark), (y_pass, again) = sorted(middle, key=lambda m: abs(m[0] - 80))
                lo, hi = style["pass_darkness"]
                assert lo - 0.01 < again / dark < hi + 0.01 and abs(y_pass - y_line) >= 2.5, (seed, middle)
                assert abs(60 + int(np.argmin(target)) + 0.5 - y_line) <= 1, (seed, middle, np.round(target, 2))
            else:
                assert min(d for _, d in middle) / max(d for _, d in middle) > 0.9, (seed, middle)


def test_a_loose_sketchers_bundle_is_passes_apart_end_to_end_and_one_target_line(monkeypatch):
    """A bundle (girl.png's hair): 3-6 passes, whole passes apart and their ends staggered, traced
    as one line. Only loose sketchers draw them, whose intended lines keep `min_gap` apart wider
    than the bundle, so a drawing never has a bundle and a double at the same spacing."""
    from training import synth
    from training.curves import resample
    from training.metrics import line_count
    drawn = _record_drawn_strokes(monkeypatch)
    x = np.linspace(40.0, 200.0, 80)
    line = resample(np.stack([x, np.full_like(x, 120.0)], 1))
    rng = np.random.default_rng(0)
    styles = [synth.sketch_style(rng) for _ in range(400)]
    assert all(s["bundle"] == 0 for s in styles if s["spread"] < 1.2)
    assert np.mean([s["bundle"] > 0 for s in styles]) > 0.3
    apart, stagger = [], []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        style = dict(synth.sketch_style(rng), spread=2.0, bundle=1.0, scratch=0.0, width=1.2)
        drawn.clear()
        _, traced, kinds = synth.render_sketch(rng, [(line, False)], [], 240, 0.3, style, False)
        assert kinds == ["bundle"]
        passes = drawn[0]
        assert 3 <= len(passes) <= 6, (seed, len(passes))
        # offsets of the passes at both quarter points: a bundle's passes are apart there too,
        # not only in the middle (where every sketched line's passes bow apart)
        at = [[float(st.pts[np.argmin(np.abs(st.pts[:, 0] - q)), 1]) for st in passes] for q in (80.0, 160.0)]
        apart += [float(np.ptp(a)) for a in at]
        stagger.append(float(np.ptp([st.pts[0, 0] for st in passes])))
        assert min(synth.min_gap(style, t) for t in (1.0, 8.0)) > 2 * np.std(at[0]) + 2.5
        target = synth.render_target(traced, 240, 1.5, synth.BRUSHES[0])[90:151, 110:131].mean(1)
        assert line_count(target < 0.5) == 1, (seed, np.round(target, 2))
    assert np.median(apart) >= 3.0 and np.median(stagger) >= 10.0, (np.round(apart, 1), np.round(stagger, 1))


def test_crossing_bundles_passes_meet_where_side_by_side_ones_stay_apart_like_a_double(monkeypatch):
    """`Shares.crossing`: a bundle's passes drawn to fan and cross. Side by side, about a third
    of its pass pairs never come within 1.5 px of each other over the line's middle (as an
    intended double would not); crossing, far fewer. Either way the target is one line."""
    from training import synth
    from training.curves import resample
    from training.metrics import line_count
    drawn = _record_drawn_strokes(monkeypatch)
    x = np.linspace(24.0, 232.0, 80)
    line = resample(np.stack([x, np.full_like(x, 128.0)], 1))
    cols = np.arange(50.0, 207.0, 2.0)
    apart: dict[float, list[bool]] = {0.0: [], 1.0: []}
    for crossing in apart:
        for seed in range(40):
            rng = np.random.default_rng(seed)
            style = dict(synth.sketch_style(rng), spread=rng.uniform(2.4, 3.6), bundle=1.0, scratch=0.0, width=1.2)
            drawn.clear()
            _, traced, _ = synth.render_sketch(rng, [(line, False)], [], 256, 0.3, style, False, crossing=crossing)
            ys = [np.interp(cols, st.pts[o, 0], st.pts[o, 1], left=np.nan, right=np.nan)
                  for st in drawn[0] for o in [np.argsort(st.pts[:, 0])]]
            for i in range(len(ys)):
                for j in range(i + 1, len(ys)):
                    d = (ys[i] - ys[j])[~np.isnan(ys[i] - ys[j])]
                    if len(d) >= 20:
                        apart[crossing].append(bool(np.all(d >= 1.5) or np.all(d <= -1.5)))
            target = synth.render_target(traced, 256, 1.5, synth.BRUSHES[0])[96:161, 118:139].mean(1)
            assert line_count(target < 0.5) == 1, (crossing, seed, np.round(target, 2))
    assert np.mean(apart[0.0]) > 0.25 and np.mean(apart[1.0]) < 0.6 * np.mean(apart[0.0]), \
        {k: round(float(np.mean(v)), 3) for k, v in apart.items()}


def test_a_tufts_lines_meet_at_the_root_and_part_as_two_lines():
    """A tuft (Bee02's wing roots): 3-7 lines from one root, merged where they meet, and at a
    third of their length apart by the ink width and 3 px, so the target has each line whole."""
    from training.figures import Details, tuft
    from training.metrics import line_count
    from training.synth import BRUSHES, render_target
    for seed in range(12):
        rng = np.random.default_rng(seed)
        out = Details()
        c = np.array([160.0, 160.0])
        tuft(rng, c, 250.0, 2.0, out)
        lines = [pts if np.hypot(*(pts[0] - c)) < np.hypot(*(pts[-1] - c)) else pts[::-1] for pts, _ in out.curves]
        assert 3 <= len(lines) <= 7 and all(np.hypot(*(pts[0] - c)) < 5 for pts in lines), seed
        target = render_target([(pts, False) for pts in lines], 320, 2.0, BRUSHES[0]) < 0.5
        # a circle round the root at a third of the shortest line crosses each line once
        r = min(len(pts) for pts in lines) / 3
        t = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
        ring = target[np.round(c[1] + r * np.sin(t)).astype(int), np.round(c[0] + r * np.cos(t)).astype(int)]
        assert line_count(np.roll(ring, -int(np.argmin(ring)))) == len(lines), seed


@pytest.mark.parametrize("metric", ["tufts", "veins"])
def test_tufts_and_veins_score_lines_drawn_whole_and_lines_left_out(metric):
    """The tufts and veins metrics count the drawing's lines as drawn where the output has ink
    on them: all ink scores 1, paper 0, and ink on the left half of the page in between."""
    from types import SimpleNamespace

    from training import evaluate
    tufts = getattr(evaluate, metric)

    class Fixed:
        card = SimpleNamespace(default_faint=0.4)

        def __init__(self, draw) -> None:
            self.draw = draw

        def run(self, grey, settings, blue=None):
            return self.draw(grey)

    assert tufts(Fixed(lambda g: np.zeros_like(g)), 3) == {"covered": 1.0, "lines_whole": 1.0}
    assert tufts(Fixed(lambda g: np.full_like(g, 255)), 3) == {"covered": 0.0, "lines_whole": 0.0}
    half = tufts(Fixed(lambda g: np.where(np.indices(g.shape)[1] < g.shape[1] // 2, 0, 255).astype(np.uint8)), 3)
    assert 0.2 < half["covered"] < 0.8 and half["lines_whole"] < 1.0, half
