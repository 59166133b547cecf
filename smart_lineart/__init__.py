"""Smart Lineart: rough sketch layer -> clean lineart layer, with a small local network.

Inside Krita this package registers the Tools -> Smart Lineart action and the docker.
Elsewhere it is the command-line tool and engine (`python -m smart_lineart --help`).
"""
from __future__ import annotations

import os
import sys

__version__ = "0.5.0"

# `make install` puts numpy and the runtimes for Krita's Python beside the plugin folder
# (Krita's plugin importer replaces the plugin folder itself on reinstall).
_DEPS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "smart_lineart_deps")
if os.path.isdir(_DEPS) and _DEPS not in sys.path:
    sys.path.append(_DEPS)


def __getattr__(name: str):
    """`smart_lineart.apply`, the scripting entry (see krita.document.apply), imported on first
    use so that the CLI does not load the Krita side."""
    if name == "apply":
        from .krita.document import apply
        return apply
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _inside_krita() -> bool:
    try:
        import krita  # noqa: F401  (only importable inside Krita)
    except ImportError:
        return False
    return True


if _inside_krita():
    from .krita.extension import register
    register()
