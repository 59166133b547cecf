"""Smart Lineart: rough sketch layer -> clean lineart layer, with a small local network.

Inside Krita this package registers the Tools -> Smart Lineart action and the docker.
Elsewhere it is the command-line tool and engine (`python -m smart_lineart --help`).
"""
from __future__ import annotations

import os
import sys

# `make install` puts numpy and the runtimes for Krita's Python beside the plugin folder
# (Krita's plugin importer replaces the plugin folder itself on reinstall).
_DEPS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "smart_lineart_deps")
if os.path.isdir(_DEPS) and _DEPS not in sys.path:
    sys.path.append(_DEPS)


def apply(document, node, thickness: float = 3.0, brush: str | None = None, faint: float | None = None,
          wait: bool = True):
    """Turn `node` of `document` into lineart on a new layer directly above it, or update the
    lineart layer an earlier run made from it. Returns that layer (with wait=False: a Job,
    whose `start()` computes in a thread). Raises ValueError for a node it cannot process
    (vector layer, mask, empty layer or group) or settings out of range."""
    from .krita_bridge import apply as _apply
    return _apply(document, node, thickness, brush, faint, wait)


try:
    import krita  # noqa: F401  (only importable inside Krita)
except ImportError:
    krita = None
if krita is not None:
    from .krita_plugin import register
    register()
