
import numpy as np
from PIL import Image

from tests.conftest import ROOT
from training import probe


def test_peak_rss_stays_under_max_memory_on_a_large_page(tmp_path, sketch):
    import subprocess
    h, w = 5000, 4000  # 20 MP: far more than one tile at this cap
    page = np.full((h, w), 255, np.uint8)
    page[:sketch.shape[0], :sketch.shape[1]] = sketch
    page[-sketch.shape[0]:, -sketch.shape[1]:] = sketch
    src = tmp_path / "page.png"
    Image.fromarray(page).save(src)
    cap = 450
    res = subprocess.run(probe.command("cli", str(src), "-o", str(tmp_path / "o.png"), "--max-memory", str(cap),
                                       "--quiet"), capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    peak_mb = float(res.stderr.split("peak")[-1])
    assert peak_mb < cap, f"peak RSS {peak_mb:.0f} MB over the {cap} MB cap"
    out = np.asarray(Image.open(tmp_path / "o.png"))
    assert out.shape == (h, w) and out[-200:, -200:].min() < 64  # the far corner was processed too


def test_image_too_big_for_the_cap_is_refused_before_decoding(tmp_path):
    from tests.conftest import run_cli
    src = tmp_path / "huge.png"
    Image.new("RGBA", (9000, 9000), (255, 255, 255, 0)).save(src)  # 324 MB decoded
    res = run_cli(str(src), "-o", str(tmp_path / "o.png"), "--max-memory", "300")
    assert res.returncode == 2 and "over --max-memory 300" in res.stderr and "Traceback" not in res.stderr
