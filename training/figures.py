"""Structured parts of drawings that random curves never produce, as an inker keeps them.

- eyes: lids, brows, an iris or pupil filled solid with a highlight left white (spot blacks);
- hair clumps: pointed locks whose borders run close and meet at the tips, with strands;
- hatching: blush marks, shading and fabric ribs, parallel lines drawn once each, kept apart;
- spot blacks: small filled shapes (shadows, buttons, pupils);
- restrokes: a line gone over once more, lighter, parting and meeting again: one line;
- tufts: lines fanning out from one root (wing veins, a hair tuft, folds from a pinch),
  each sketched with passes, crowded where they meet;
- venation: a wing or leaf whose veins are drawn small and close, once each (a training option);
- a line beside a sketched line: a narrow shape's other side, drawn once, closer than the
  sketcher's other lines keep (a training option);
- a fork: a light line leaving a sketched line, one end on it, the other well apart (a
  training option).

What separates hatching from passes of one line is in the data: hatching lines are drawn
once, confidently, evenly spaced, as dark as each other and tapered at both ends; passes
wander, cross, meet again and are lighter than the line's committed pass. Each
hatching line stays at least `thickness + 2` px from its neighbour, so the target keeps
them apart.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from training.curves import catmull_rom, ellipse_points, normals, resample


@dataclass
class Fill:
    """A spot black: the outline polygon (closed, ~1 px steps) and holes left white."""
    outline: np.ndarray
    holes: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class Shares:
    """Training options: the share of drawings given a `venation`, a line `beside` a sketched
    line, a `fork`; the share of bundles whose passes cross; the share of drawings inked thin. At 0 (the held-out set, the tests'
    samples) nothing more is drawn from the stream, so those stay as they are."""
    vein: float = field(default=0.0, metadata={"help": "share of training drawings given a wing or leaf with small, "
                                                       "close veins (figures.venation)"})
    beside: float = field(default=0.0, metadata={"help": "share of training drawings given a sketched line with a line "
                                                         "drawn once beside it, nearer than the sketcher's other lines "
                                                         "(figures.beside), two lines in the target"})
    fork: float = field(default=0.0, metadata={"help": "share of training drawings given a sketched line with a light "
                                                       "line leaving it, drawn once (figures.fork), two whole lines "
                                                       "in the target"})
    crossing: float = field(default=0.0, metadata={"help": "share of a loose sketcher's bundles drawn with passes that "
                                                           "fan and cross (synth.CROSSING) rather than lying side by "
                                                           "side, one line in the target"})
    thin: float = field(default=0.0, metadata={"help": "share of training drawings inked at a width drawn from "
                                                       "synth.THIN_RANGE instead of the whole THICKNESS_RANGE"})


@dataclass
class Details:
    curves: list[tuple[np.ndarray, bool]] = field(default_factory=list)  # sketched with the artist's passes
    # patches of lines drawn once each with one hand (as dark as each other), kept as separate lines
    hatches: list[list[np.ndarray]] = field(default_factory=list)
    restrokes: list[np.ndarray] = field(default_factory=list)  # one line, gone over once more (see `restroke`)
    # a line sketched in the artist's passes and one drawn once beside it (see `beside`)
    beside: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    # a line sketched in the artist's passes and a light line leaving it, drawn once (see `fork`)
    forks: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)


def _arc(a: np.ndarray, b: np.ndarray, bulge: float) -> np.ndarray:
    """A smooth arc from a to b bowed `bulge` px to the left of a->b."""
    m = (a + b) / 2
    d = b - a
    n = np.array([d[1], -d[0]]) / max(np.hypot(*d), 1e-6)
    return catmull_rom(np.stack([a, m + n * bulge, b]), closed=False)


def _rot(v: np.ndarray, ang: float) -> np.ndarray:
    c, s = np.cos(ang), np.sin(ang)
    return v @ np.array([[c, s], [-s, c]])


def eye(rng: np.random.Generator, c: np.ndarray, width: float, mirror: bool, out: Details) -> None:
    w = width
    sgn = -1.0 if mirror else 1.0
    tilt = sgn * rng.uniform(-0.15, 0.2)
    left, right = np.array([-w / 2, 0.0]), np.array([w / 2, rng.uniform(-0.1, 0.1) * w])
    upper = _arc(left, right, w * rng.uniform(0.25, 0.45))  # bowed upwards (y down)
    lower = _arc(left + [w * 0.15, w * 0.05], right - [w * 0.1, -w * 0.12], -w * rng.uniform(0.1, 0.2))
    iris_c = np.array([rng.uniform(-0.1, 0.1) * w, -w * rng.uniform(0.02, 0.12)])
    rx, ry = w * rng.uniform(0.16, 0.24), w * rng.uniform(0.22, 0.32)
    iris = ellipse_points(iris_c, rx, ry, 0.0, 0.0, 2 * np.pi)
    place = lambda p: _rot(p * [sgn, 1.0], tilt) + c  # noqa: E731
    if rng.random() < 0.5:  # a thick upper lid drawn as a filled crescent
        thick = w * rng.uniform(0.05, 0.12)
        crescent = np.concatenate([upper, _arc(right, left, -w * rng.uniform(0.25, 0.45) + thick)])
        out.fills.append(Fill(place(resample(np.concatenate([crescent, crescent[:1]])))))
    else:
        out.curves.append((place(upper), False))
    if rng.random() < 0.7:
        out.curves.append((place(lower), False))
    hl = iris_c + [-rx * 0.35, -ry * 0.35]
    highlight = ellipse_points(hl, rx * rng.uniform(0.25, 0.4), ry * rng.uniform(0.2, 0.35), 0.0, 0.0, 2 * np.pi)
    if rng.random() < 0.65:  # a solid iris with a highlight
        out.fills.append(Fill(place(iris), [place(highlight)] if rng.random() < 0.8 else []))
    else:  # an outlined iris with a solid pupil
        out.curves.append((place(iris), True))
        pupil = ellipse_points(iris_c + [0, ry * 0.1], rx * 0.45, ry * 0.45, 0.0, 0.0, 2 * np.pi)
        out.fills.append(Fill(place(pupil)))
    if rng.random() < 0.7:  # eyebrow
        brow = _arc(np.array([-w * 0.55, -w * 0.7]), np.array([w * 0.5, -w * rng.uniform(0.6, 0.9)]), w * 0.15)
        out.curves.append((place(brow), False))


def eyes(rng: np.random.Generator, c: np.ndarray, out: Details) -> None:
    w = rng.uniform(18, 56)
    gap = w * rng.uniform(1.3, 2.0)
    eye(rng, c - [gap / 2, 0], w, True, out)
    eye(rng, c + [gap / 2, 0], w, False, out)


def hatching(rng: np.random.Generator, c: np.ndarray, thickness: float, out: Details, kind: str | None = None) -> None:
    """A patch of parallel lines: blush marks (short, diagonal), shading, fabric ribs, or a long
    double or triple line (a seam, a rim, a tube) as close as lines can be and stay apart.
    Doubles are the most common kind: next to the passes of one line, which the network learns to
    merge, two confident lines a few px apart are what it must learn to keep."""
    kind = kind or str(rng.choice(["blush", "shade", "ribs", "double"], p=[0.15, 0.15, 0.2, 0.5]))
    n = int({"blush": rng.integers(3, 7), "shade": rng.integers(4, 12), "ribs": rng.integers(2, 12),
             "double": rng.integers(2, 4)}[kind])
    length = {"blush": rng.uniform(6, 18), "double": rng.uniform(30, 120)}.get(kind, rng.uniform(15, 60))
    # a double sits as close as its ink width allows (2-4.5 px of paper between the lines)
    spacing = thickness + rng.uniform(2.0, 4.5) if kind == "double" else max(rng.uniform(3.5, 9.0), thickness + 2.0)
    ang = rng.uniform(0, np.pi)
    d = np.array([np.cos(ang), np.sin(ang)])
    nrm = np.array([-d[1], d[0]])
    bow = rng.normal(0, 0.08) * length
    patch = []
    for i in range(n):
        ln = length * rng.uniform(0.75, 1.15)
        start = c + nrm * (i - n / 2) * spacing * rng.uniform(0.92, 1.08) + d * rng.normal(0, length * 0.08)
        line = _arc(start - d * ln / 2, start + d * ln / 2, bow)
        patch.append(line)
    out.hatches.append(patch)


def restroke(rng: np.random.Generator, c: np.ndarray, out: Details) -> None:
    """A line gone over once more, the second pass lighter and parting a few px from it in the
    middle, meeting it again at the ends (the right wall of real-pencil rough_house.png: 5-6.5
    px apart over 60 px, 0.73-0.88 as dark): one line to an inker. Set beside the close doubles,
    it leaves darkness and ends, not spacing, to tell one line from two (`render_sketch` draws
    the passes)."""
    out.restrokes.append(_gentle_arc(rng, c))


def _gentle_arc(rng: np.random.Generator, c: np.ndarray) -> np.ndarray:
    """A line 50-150 px long through `c`, at any angle, bowed a little."""
    length = rng.uniform(50, 150)
    ang = rng.uniform(0, np.pi)
    d = np.array([np.cos(ang), np.sin(ang)]) * length / 2
    return _arc(c - d, c + d, rng.normal(0, 0.08) * length)


def beside(rng: np.random.Generator, line: np.ndarray, closest: float, out: Details) -> None:
    """The other side of a narrow shape (a strap, a seam, girl.png's shoulder badge) beside `line`,
    which the artist sketches in passes (never as a bundle, whose passes would reach it):
    `closest` + 0-5 px away, a little shorter at either end, drawn once, confidently
    (`render_sketch`). Two lines to an inker, nearer than the sketcher's other lines keep apart
    (`synth.min_gap`): lineart-v33 drops girl.png's badge's top side, 9 px from its bottom
    side's two passes 3 px apart, with the page's loose bundles around it, and keeps it where
    they are erased or it lies 1 px further away."""
    gap = closest + rng.uniform(0.0, 5.0)
    n = len(line)
    a, b = int(rng.uniform(0, 0.15) * n), n - int(rng.uniform(0, 0.15) * n)
    out.beside.append((line, (line + normals(line) * rng.choice([-1.0, 1.0]) * gap)[a:b]))


FORK_APART = (0.0, 8.0)  # px a fork's far end lies beyond the least it keeps from its line


def fork(rng: np.random.Generator, line: np.ndarray, reach: float, thickness: float, out: Details) -> None:
    """A light line leaving `line` (which the artist sketches in passes): Pig02.png's ear, whose
    rim's far edge is drawn once, lightly, running into the ear's darker outline at the tip.
    From its junction on `line` it parts smoothly until its ink lies 3 px of paper beyond the
    passes' reach and 8 px of paper beyond the line's ink, or up to FORK_APART px more: further
    than a restroke's pass ever parts (`restroke`: 3-7 px, meeting again), so one end on the
    line and one well away tell it from a pass. Two lines to an inker, each whole;
    lineart-v52 broke the light one into dashes where it nears the darker one."""
    n = len(line)
    start = int(rng.uniform(0.0, 0.3) * n)  # the junction, from one end or the other
    course = line[start:] if rng.random() < 0.5 else line[:n - start][::-1]
    u = np.linspace(0.0, 1.0, len(course))
    apart = max(reach + thickness / 2 + 3.0, thickness + 8.0) + rng.uniform(*FORK_APART)
    offset = apart * u ** rng.uniform(0.8, 2.0)  # tangent at the junction when the power is > 1
    out.forks.append((line, course + normals(course) * rng.choice([-1.0, 1.0]) * offset[:, None]))


def hair(rng: np.random.Generator, c: np.ndarray, scale: float, thickness: float, out: Details) -> None:
    """Locks hanging from a parting: neighbouring borders start apart and meet at the tips;
    a few strands inside, drawn once."""
    n = int(rng.integers(2, 6))
    root_w = rng.uniform(14, 36)
    flow = rng.uniform(0.3, 2.8)  # mostly downwards (y down)
    d = np.array([np.cos(flow), np.sin(flow)])
    nrm = np.array([-d[1], d[0]])
    length = scale * rng.uniform(0.3, 0.7)
    curl = rng.normal(0, 0.3)
    roots = [c + nrm * (i - n / 2) * root_w for i in range(n + 1)]
    for i in range(n):
        a, b = roots[i], roots[i + 1]
        tip = (a + b) / 2 + _rot(d, curl) * length * rng.uniform(0.7, 1.1)
        mid = lambda p, q, k: p + (q - p) * 0.5 + _rot(d, curl * 0.5) * k  # noqa: E731
        left = catmull_rom(np.stack([a, mid(a, tip, rng.normal(0, 3)), tip]), closed=False)
        right = catmull_rom(np.stack([b, mid(b, tip, rng.normal(0, 3)), tip]), closed=False)
        out.curves += [(left, False), (right, False)]
        if root_w > 2 * (thickness + 2) and rng.random() < 0.6:  # a strand down the middle, drawn once
            strand = catmull_rom(np.stack([(a + b) / 2 + d * 3, mid((a + b) / 2, tip, 0), tip - _rot(d, curl) * length * 0.3]),
                                 closed=False)
            out.hatches.append([strand])
    if rng.random() < 0.3:  # a shadow under the locks, filled
        under = np.concatenate([roots[0] + d * length * 0.15, roots[-1] + d * length * 0.15, roots[-1] + d * length * 0.3,
                                roots[0] + d * length * 0.3]).reshape(-1, 2)
        out.fills.append(Fill(resample(np.concatenate([under, under[:1]]))))


def tuft(rng: np.random.Generator, c: np.ndarray, scale: float, thickness: float, out: Details) -> None:
    """3-7 lines fanning out from one root (Bee02's wing roots, a tuft of hair): near the root
    their passes crowd into one dark knot, where the networks broke lines into dashes (90 min
    on tufts did not change that: lineart-v20). An inker draws each line whole, merged into a
    wedge where they are closer than the ink is wide; they part to at least `thickness + 3` px
    within the first third."""
    n = int(rng.integers(3, 8))
    lengths = scale * rng.uniform(0.25, 0.6) * rng.uniform(0.7, 1.1, n)
    # the angle between neighbours: apart by the ink and 3 px (+1 px for the roots' scatter)
    # at a third of the shortest line
    step = max(rng.uniform(0.12, 0.35), (thickness + 4) / (lengths.min() / 3))
    ang = rng.uniform(0, 2 * np.pi) + (np.arange(n) - (n - 1) / 2) * step
    bend = rng.normal(0, 0.25)
    for a, ln in zip(ang, lengths):
        root = c + rng.normal(0, 0.5, 2)  # the lines start almost, not exactly, at one point
        d0, d1 = np.array([np.cos(a), np.sin(a)]), np.array([np.cos(a + bend), np.sin(a + bend)])
        line = catmull_rom(np.stack([root, root + d0 * ln * 0.45, root + d0 * ln * 0.45 + d1 * ln * 0.55]), closed=False)
        out.curves.append((line if rng.random() < 0.5 else line[::-1], False))


def venation(rng: np.random.Generator, c: np.ndarray, thickness: float, out: Details) -> None:
    """A wing or leaf (Bee02.png's wings): the outline sketched like any line, and inside it
    veins drawn small and close, once each, confidently: a spine, branches leaving it at an
    angle to the outline, cross-veins closing cells 8-30 px across. An inker keeps every vein
    whole; the networks broke them into dashes. Neighbouring branches keep `thickness + 3` px
    apart, so the target keeps them apart; veins end on the outline or the spine (junctions)."""
    a = rng.uniform(30, 90) + 4 * thickness  # half the length
    b = a * rng.uniform(0.3, 0.55)
    egg = rng.uniform(-0.3, 0.3)  # wider towards one end
    rot = rng.uniform(0, 2 * np.pi)
    page = lambda p: _rot(p, rot) + c  # noqa: E731

    def inside(p: np.ndarray) -> bool:
        u = p[0] / a
        return abs(u) < 1 and abs(p[1]) < b * (1 + egg * u) * np.sqrt(1 - u * u)

    t = np.linspace(0, 2 * np.pi, 200)
    outline = np.stack([a * np.cos(t), b * np.sin(t) * (1 + egg * np.cos(t))], 1)
    out.curves.append((page(resample(outline)), True))
    x0, x1 = -0.95 * a, rng.uniform(0.3, 0.8) * a
    spine = _arc(np.array([x0, 0.0]), np.array([x1, 0.0]), rng.normal(0, 0.05) * a)
    veins = [spine]
    gap = thickness + rng.uniform(3, 8)
    ang = rng.uniform(0.35, 0.8)
    sides = [1.0, -1.0] if rng.random() < 0.6 else [float(rng.choice([-1.0, 1.0]))]
    for side in sides:
        step = gap / np.sin(ang) * rng.uniform(1.0, 1.6)
        branches = []
        for x in np.arange(x0 + step * rng.uniform(0.5, 1.0), x1, step):
            start = spine[np.argmin(np.abs(spine[:, 0] - x))]
            d = np.array([np.cos(ang), side * np.sin(ang)])
            n = 1
            while inside(start + d * (n + 1)) and n < 4 * a:
                n += 1
            if n > gap:
                line = _arc(start, start + d * n, side * rng.normal(0, 0.04) * n)
                branches.append(line)
        veins += branches
        for p, q in zip(branches, branches[1:]):  # cross-veins closing cells between neighbours
            if rng.random() < 0.6:
                i, j = (int(len(v) * rng.uniform(0.4, 0.8)) for v in (p, q))
                if np.hypot(*(p[i] - q[j])) > gap:
                    veins.append(_arc(p[i], q[j], rng.normal(0, 0.1) * gap))
    out.hatches.append([page(v) for v in veins])


def spot_black(rng: np.random.Generator, c: np.ndarray, out: Details) -> None:
    """A small filled blob or wedge, 5-40 px across."""
    r = rng.uniform(3, 20)
    k = int(rng.integers(5, 9))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    rad = r * rng.uniform(0.6, 1.3, k)
    ctrl = c + np.stack([np.cos(ang), np.sin(ang)], 1) * rad[:, None]
    out.fills.append(Fill(catmull_rom(ctrl, closed=True)))


def details(rng: np.random.Generator, size: int, scale: float, thickness: float, shares: Shares = Shares(),
            reach: float = 0.0) -> Details:
    """0-4 structured parts at random places of a `size` px drawing; besides, in 60% of drawings
    a close double line, in 60% a line gone over once more (`restroke`), in 40% a `tuft`. With doubles only
    among the parts (0.3 per drawing) networks merged every double 4-5 px apart at 1.5 px; with
    doubles alone added, they kept passes of one line apart as well. shares: the training
    options (`Shares`); a line `beside` sits 2.5 px of paper beyond `reach` (how far from its
    course the sketcher's passes stray, `synth.pass_reach`), a `fork` parts beyond it."""
    out = Details()
    if rng.random() < 0.6:
        hatching(rng, rng.uniform(0.1, 0.9, 2) * size, thickness, out, "double")
    if rng.random() < 0.6:
        restroke(rng, rng.uniform(0.1, 0.9, 2) * size, out)
    if rng.random() < 0.4:
        tuft(rng, rng.uniform(0.1, 0.9, 2) * size, scale, thickness, out)
    for _ in range(rng.choice([0, 1, 2, 3, 4], p=[0.25, 0.3, 0.25, 0.12, 0.08])):
        c = rng.uniform(0.1, 0.9, 2) * size
        kind = rng.random()
        if kind < 0.25:
            eyes(rng, c, out)
        elif kind < 0.65:
            hatching(rng, c, thickness, out)
        elif kind < 0.82:
            hair(rng, c, scale, thickness, out)
        else:
            for _ in range(rng.integers(1, 4)):
                spot_black(rng, c + rng.normal(0, 20, 2), out)
    if shares.vein and rng.random() < shares.vein:
        venation(rng, rng.uniform(0.2, 0.8, 2) * size, thickness, out)
    if shares.beside and rng.random() < shares.beside:
        beside(rng, _gentle_arc(rng, rng.uniform(0.1, 0.9, 2) * size), reach + 2.5, out)
    if shares.fork and rng.random() < shares.fork:
        fork(rng, _gentle_arc(rng, rng.uniform(0.1, 0.9, 2) * size), reach, thickness, out)
    return out
