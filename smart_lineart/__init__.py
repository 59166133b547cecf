"""Smart Lineart: rough sketch layer -> clean lineart layer, with a small local network.

Inside Krita this package registers the Tools -> Smart Lineart action and the docker.
Elsewhere it is the command-line tool and engine (`python -m smart_lineart --help`).
"""
from __future__ import annotations

import os
import sys

__version__ = "0.13.1"

# numpy and a runtime for Krita's Python, used only where Krita's own Python lacks them (appended
# to sys.path): `make install` puts them beside the plugin folder (Krita's plugin importer
# replaces the plugin folder itself on reinstall), a runtime zip inside it.
_HERE = os.path.dirname(os.path.abspath(__file__))
for _deps in (os.path.join(os.path.dirname(_HERE), "smart_lineart_deps"), os.path.join(_HERE, "deps")):
    if os.path.isdir(_deps) and _deps not in sys.path:
        sys.path.append(_deps)


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
