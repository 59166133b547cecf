"""numpy and the runtimes built for a Krita's Python, at requirements.txt's pins.

    python -m tools.krita_runtime --python 3.13 --platform linux_x86_64 --target DIR [--onnxruntime]
        installs them into DIR (`make install`: the dependency folder beside the plugin)
    python -m tools.krita_runtime --zips dist/smart_lineart-V.zip [--only py313-linux_x86_64 ...]
        the runtime zips (`make dist-runtime`): the plugin zip plus numpy and OpenVINO inside the
        plugin folder, one per Krita Python and platform (smart_lineart.krita.runtime.DIST_TARGETS)

Every wheel's tags are checked against the Python and platform asked for.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from smart_lineart.krita.runtime import DIST_TARGETS, PLATFORMS, zip_name

ROOT = Path(__file__).resolve().parent.parent
OLDER_PINS = {"3.10": {"numpy": "numpy==2.2.6"}}  # numpy 2.3 dropped Python 3.10


def requirements(python: str, onnxruntime: bool) -> list[str]:
    wanted = ("numpy", "openvino") + (("onnxruntime",) if onnxruntime else ())
    pins = {line.split("==")[0]: line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
            if "==" in line and not line.startswith("#")}
    pins.update(OLDER_PINS.get(python, {}))
    return [pins[name] for name in wanted]


def install(python: str, plat: str, target: Path, onnxruntime: bool = False) -> None:
    platforms = [x for tag in PLATFORMS[plat] for x in ("--platform", tag)]
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--target",
                    str(target), "--python-version", python, "--only-binary=:all:", *platforms,
                    *requirements(python, onnxruntime)], check=True)
    check_tags(target, python, plat)


def check_tags(target: Path, python: str, plat: str) -> None:
    """Each installed wheel is for this CPython (or its stable ABI, or pure Python) and this
    platform (or any)."""
    version = int(python.replace(".", ""))

    def fits(tag: str) -> bool:
        interpreter, abi, platforms = tag.split("-")
        cp = interpreter.startswith("cp") and (int(interpreter[2:]) == version
                                               or (abi == "abi3" and int(interpreter[2:]) <= version))
        return (cp or interpreter.startswith("py3")) and \
            (platforms == "any" or any(p in PLATFORMS[plat] for p in platforms.split(".")))

    for wheel in target.glob("*.dist-info/WHEEL"):
        tags = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")]
        if not any(fits(t) for t in tags):
            raise SystemExit(f"{wheel.parent.name}: tags {tags} are not for Python {python} on {plat}")


def runtime_zip(base: Path, python: str, plat: str, out_dir: Path) -> Path:
    """The plugin zip with numpy and OpenVINO in smart_lineart/deps; written whole or not at all."""
    out = out_dir / zip_name(python, plat)
    with tempfile.TemporaryDirectory() as tmp:
        deps = Path(tmp) / "deps"
        install(python, plat, deps)
        part = out.with_name(out.name + ".part")
        with zipfile.ZipFile(base) as src, zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                dst.writestr(item, src.read(item))
            for f in sorted(deps.rglob("*")):
                if f.is_file() and "__pycache__" not in f.parts:
                    dst.write(f, f"smart_lineart/deps/{f.relative_to(deps).as_posix()}")
        os.replace(part, out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python")
    ap.add_argument("--platform", choices=sorted(PLATFORMS))
    ap.add_argument("--target", type=Path)
    ap.add_argument("--onnxruntime", action="store_true", help="also ONNX Runtime (the CLI's second backend)")
    ap.add_argument("--zips", type=Path, metavar="PLUGIN_ZIP")
    ap.add_argument("--only", nargs="*", help="zip targets like py313-linux_x86_64 (default: all)")
    a = ap.parse_args()
    if a.zips:
        for python, plat in DIST_TARGETS:
            if not a.only or f"py{python.replace('.', '')}-{plat}" in a.only:
                out = runtime_zip(a.zips, python, plat, a.zips.parent)
                print(f"{out} ({out.stat().st_size / 1e6:.0f} MB)")
    elif a.python and a.platform and a.target:
        if a.target.exists():
            shutil.rmtree(a.target)
        install(a.python, a.platform, a.target, a.onnxruntime)
    else:
        ap.error("give --zips, or --python, --platform and --target")


if __name__ == "__main__":
    main()
