"""The runtime inside Krita: numpy and OpenVINO (or ONNX Runtime). Krita's own Python comes
first (official builds since 5.2.9 ship numpy and OpenVINO); the plugin's dependency folders
(`smart_lineart_deps` beside the plugin from `make install`, `deps` inside it from a runtime zip)
come after it on sys.path. Without a runtime the plugin still loads and says what to install.
No numpy, Qt or Krita here: this is what runs when they are missing.
"""
from __future__ import annotations

import importlib.util
import platform
import sys

from .. import __version__

# The runtime zips (`make dist-runtime`): zip platform name -> pip platform tags of its wheels.
PLATFORMS: dict[str, tuple[str, ...]] = {
    "linux_x86_64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "linux_aarch64": ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"),
    "win_amd64": ("win_amd64",),
    "macos_arm64": ("macosx_11_0_arm64", "macosx_12_0_arm64", "macosx_13_0_arm64", "macosx_14_0_arm64"),
}
# The Pythons of the Kritas without OpenVINO: official 5.2.0-5.2.8 (3.10), Linux distributions'
# (Debian 12 3.11, Ubuntu 24.04 3.12, Debian 13 3.13, Debian sid 3.14).
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
DIST_TARGETS = [(py, "linux_x86_64") for py in PYTHONS] + [("3.10", "win_amd64"), ("3.10", "macos_arm64")]


def this_platform() -> str:
    machine = platform.machine().lower()
    if sys.platform == "win32":
        return "win_amd64"
    if sys.platform == "darwin":
        return "macos_arm64" if machine == "arm64" else "macos_x86_64"
    return f"linux_{'aarch64' if machine in ('aarch64', 'arm64') else 'x86_64'}"


def zip_name(python: str, plat: str) -> str:
    return f"smart_lineart-{__version__}-py{python.replace('.', '')}-{plat}.zip"


def missing() -> str:
    """'' when the runtime imports, else what to do, in plain words (shown in the docker)."""
    lacking = []
    try:
        import numpy  # noqa: F401
    except Exception:  # absent, or built for another Python: either way, not usable
        lacking.append("numpy")
    if not any(importlib.util.find_spec(b) for b in ("openvino", "onnxruntime")):
        lacking.append("OpenVINO")
    if not lacking:
        return ""
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    plat = this_platform()
    fix = (f"install {zip_name(python, plat)} with Tools > Scripts > Import Python Plugin from File and restart "
           "Krita" if (python, plat) in DIST_TARGETS else
           f"run `make install` from the Smart Lineart sources (it builds them for Python {python})")
    return (f"Smart Lineart needs {' and '.join(lacking)} in Krita's Python {python}, and this Krita has none: "
            f"{fix}. Krita 5.2.9 and later from krita.org include them.")
