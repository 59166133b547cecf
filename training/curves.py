"""Clean curves as ~1 px polylines: the intended lines of synthetic drawings."""
from __future__ import annotations

import numpy as np


def resample(pts: np.ndarray, step: float = 1.0) -> np.ndarray:
    seg = np.hypot(*np.diff(pts, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] < step:
        return pts[[0, -1]] if len(pts) > 1 else np.repeat(pts, 2, axis=0)
    t = np.linspace(0.0, s[-1], int(s[-1] / step) + 1)
    return np.stack([np.interp(t, s, pts[:, 0]), np.interp(t, s, pts[:, 1])], axis=1)


def catmull_rom(ctrl: np.ndarray, closed: bool) -> np.ndarray:
    p = np.concatenate([ctrl[-1:], ctrl, ctrl[:2]]) if closed else \
        np.concatenate([2 * ctrl[:1] - ctrl[1:2], ctrl, 2 * ctrl[-1:] - ctrl[-2:-1]])
    u = np.linspace(0, 1, 12, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * u ** 3))
    out.append(p[-2:-1] if not closed else p[1:2])
    return resample(np.concatenate(out))


def spline(rng: np.random.Generator, c: np.ndarray, scale: float) -> np.ndarray:
    n = rng.integers(3, 7)
    step = scale * rng.uniform(0.25, 0.6)
    ang = rng.uniform(0, 2 * np.pi)
    turn = rng.normal(0, rng.uniform(0.2, 0.9), n).cumsum()
    pts = np.cumsum(np.stack([np.cos(ang + turn), np.sin(ang + turn)], 1) * step, axis=0)
    return catmull_rom(pts - pts.mean(0) + c, closed=False)


def ellipse_points(c: np.ndarray, rx: float, ry: float, rot: float, a0: float, span: float) -> np.ndarray:
    n = max(int(span * max(rx, ry)), 8)
    t = a0 + np.linspace(0, span, n + 1)
    x, y = rx * np.cos(t), ry * np.sin(t)
    return resample(np.stack([c[0] + x * np.cos(rot) - y * np.sin(rot), c[1] + x * np.sin(rot) + y * np.cos(rot)], 1))


def ellipse(rng: np.random.Generator, c: np.ndarray, scale: float, closed: bool) -> np.ndarray:
    rx, ry = scale * rng.uniform(0.08, 0.5, 2)
    rot = rng.uniform(0, np.pi)
    a0 = rng.uniform(0, 2 * np.pi)
    span = 2 * np.pi if closed else rng.uniform(0.4, 1.6) * np.pi
    return ellipse_points(c, rx, ry, rot, a0, span)


def corners(rng: np.random.Generator, c: np.ndarray, scale: float) -> tuple[np.ndarray, bool]:
    closed = rng.random() < 0.4
    n = rng.integers(3, 6)
    if closed:
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = scale * rng.uniform(0.15, 0.45, n)
        v = c + np.stack([np.cos(ang), np.sin(ang)], 1) * r[:, None]
        v = np.concatenate([v, v[:1]])
    else:
        ang = rng.uniform(0, 2 * np.pi) + np.concatenate([[0], rng.choice([-1, 1], n - 2) * rng.uniform(0.5, 2.4, n - 2)]).cumsum()
        v = np.concatenate([[[0, 0]], np.cumsum(np.stack([np.cos(ang), np.sin(ang)], 1) * scale * rng.uniform(0.15, 0.5, (n - 1, 1)), 0)])
        v = v - v.mean(0) + c
    return resample(v), closed


def normals(pts: np.ndarray) -> np.ndarray:
    d = np.gradient(pts, axis=0)
    d /= np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-6)[:, None]
    return np.stack([-d[:, 1], d[:, 0]], 1)


def arclength(pts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
