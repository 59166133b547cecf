"""Smart Lineart in the live Krita window (Xvfb), in Krita 5.1.5 and 5.3.4.

kritarunner has no view, so undo, the docked docker and the Tools action in a window are tested
here: Krita starts under xvfb-run with throw-away HOME/XDG folders and a test plugin
(tests/krita/gui) enabled in kritarc; it drives the scenario once the window exists and writes
gui.json and screenshots. A missing Krita is skipped outside CI and fails in CI.
"""
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT, TEST_SEED
from tests.kritas import KRITAS, Krita, install_plugin

GUI_KRITAS = [k for k in KRITAS if k.name in ("5.1", "5.3")]


@pytest.fixture(scope="module", params=GUI_KRITAS, ids=lambda k: f"krita-{k.name}")
def gui_run(request, tmp_path_factory):
    krita: Krita = request.param
    if not krita.available() or (krita.root is None and shutil.which("xvfb-run") is None):
        if os.environ.get("CI"):
            pytest.fail(f"Krita {krita.name} with Xvfb is required in CI: `make krita` installs or builds it")
        pytest.skip(f"Krita {krita.name} with Xvfb is not here")
    home = tmp_path_factory.mktemp("krita-gui")
    resources = home / "data" / "krita"
    resources.mkdir(parents=True)
    install_plugin(krita, resources)
    for item in (ROOT / "tests" / "krita" / "gui").iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy)(item, resources / "pykrita" / item.name)
    (home / "config").mkdir()
    (home / "config" / "kritarc").write_text("[python]\nenable_smart_lineart=true\nenable_smart_lineart_gui_test=true\n")
    (home / "runtime").mkdir(mode=0o700)
    from training.synth import make_pair
    grey = make_pair(np.random.default_rng(TEST_SEED + 4), 480, brush=0).grey
    np.save(home / "sketch.npy", grey)
    job = home / "job.json"
    job.write_text(json.dumps({"sketch": str(home / "sketch.npy"), "out": str(home)}))
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CACHE_HOME": str(home / "cache"), "XDG_RUNTIME_DIR": str(home / "runtime"), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(ROOT / "tests" / "krita"), "SMART_LINEART_GUI": str(job)}
    result, xvfb_log = home / "gui.json", home / "xvfb.log"
    # -noreset: Xvfb resets whenever its last client leaves (Krita 5.3's start-up connects and
    # leaves several times: five keymap compilations per run), and a connection during a reset
    # fails. With training beside the tests Krita 5.3 hit that window: "could not connect to
    # display :99", in a second start too
    argv = ["xvfb-run", "-a", "-e", str(xvfb_log), "-s", "-screen 0 1600x1000x24 -noreset", "krita", "--nosplash"]
    run = krita.run(argv, [ROOT, home], env, timeout=600)
    if not result.exists() and "could not connect to display" in run.stderr:
        # before -noreset, once in a CI run a second start worked: that is the server, not the plugin
        run = krita.run(argv, [ROOT, home], env, timeout=600)
    xvfb = xvfb_log.read_text()[-1000:] if xvfb_log.exists() else ""
    assert result.exists(), f"Krita {krita.name} wrote no results: {run.stderr[-2000:]}\nXvfb: {xvfb}"
    return krita, home, json.loads(result.read_text())


def test_gui_scenario(gui_run):
    krita, home, res = gui_run
    assert not res["errors"], "\n".join(res["errors"])
    failed = {k: v["detail"] for k, v in res["checks"].items() if not v["ok"]}
    assert not failed, failed
    assert res["finished"] and len(res["checks"]) >= 12


def test_window_screenshots(gui_run):
    """The whole window with the docker and the lineart; kept in build/ for the README."""
    krita, home, _ = gui_run
    os.makedirs(ROOT / "build", exist_ok=True)
    for name in ("window", "window-vector"):
        shot = Image.open(home / f"{name}.png").convert("L")
        assert shot.size[0] >= 1200 and np.asarray(shot).std() > 20  # a painted window, not a blank one
        shutil.copy(home / f"{name}.png", ROOT / "build" / f"{name}-{krita.name}.png")
