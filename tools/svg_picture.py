"""The README's SVG picture: the demo sketch through the CLI with --svg, and the SVG as a browser
shows it (rendered by CairoSVG), lines and outlines, side by side on a crop.

    python -m tools.svg_picture docs/svg.png
"""
from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

import cairosvg
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CROP = (60, 40, 560, 440)  # x0, y0, x1, y1 of the 1024 px demo page


def render(svg: Path) -> Image.Image:
    png = cairosvg.svg2png(url=str(svg), background_color="white")
    return Image.open(io.BytesIO(png)).convert("L")


def main() -> None:
    out = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        cells = [Image.open(ROOT / "examples" / "sketch.jpg").convert("L")]
        for name, flags in (("lines", []), ("outlines", ["--svg-outlines"])):
            png = Path(tmp) / f"{name}.png"
            subprocess.run([sys.executable, "-m", "smart_lineart", str(ROOT / "examples" / "sketch.jpg"), "-o", str(png),
                            "--thickness", "3", "--brush", "brush-pen", "--svg", "--quiet", *flags], check=True, cwd=ROOT)
            if name == "lines":
                cells.append(Image.open(png).convert("L"))
            cells.append(render(png.with_suffix(".svg")))
    crops = [np.pad(np.asarray(c.crop(CROP)), 4, constant_values=128) for c in cells]
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(crops, axis=1)).save(out)
    print(f"wrote {out}: sketch | PNG | SVG (lines) | SVG (outlines)")


if __name__ == "__main__":
    main()
