"""The docker's widgets under PyQt5 (Krita 5) and PyQt6 (Krita 6), offscreen, with the fake Krita."""
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize("binding", ["PyQt5", "PyQt6"])
def test_docker_runs_under_both_qt_bindings(binding, tmp_path):
    pytest.importorskip(binding + ".QtWidgets")
    res = subprocess.run([sys.executable, "-m", "tests.qt.docker_check", binding, str(tmp_path / "docker.png"),
                          str(tmp_path / "appdata")],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["binding"] == binding
    assert out["registered"] == ["SmartLineartExtension", "smart_lineart_docker"]
    assert (tmp_path / "appdata").is_dir()  # the log file's folder
    assert out["saved_thickness"] == "5.0"  # the slider's change was saved as Krita's setting
    assert out["preview"] and out["running"] and out["run_enabled"], out
    assert out["layers"] == ["Sketch", "Sketch — lineart"] and out["status"].startswith("Done in"), out
    assert (tmp_path / "docker.png").stat().st_size > 1000
