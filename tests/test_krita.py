"""The plugin inside real Kritas (kritarunner, offscreen): Debian 12's 5.1.5 on this machine,
5.2.9 and 5.3.4 in cached Debian roots (tests/kritas.py; `make krita` builds them).

Each Krita gets the plugin a way artists install it (tests/kritas.py): 5.1 by `make install`
(the plugin and a dependency folder built for Krita's Python 3.11), 5.2 by the runtime zip for
Python 3.13 (numpy and OpenVINO inside the plugin), 5.3 standing in for an official build (numpy
and OpenVINO in Krita's own Python) by the plugin zip alone; zips go through that Krita's own
importer code. tests/krita/e2e.py then runs in Krita and writes its checks to a file
(kritarunner's exit status says nothing). A Krita that is missing is skipped outside CI and fails
in CI (CI set).
"""
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from smart_lineart.engine.model_card import DEFAULT_MODEL
from tests.conftest import ROOT, TEST_SEED, run_cli
from tests.kritas import KRITAS, Krita, dist_zip, import_zip, install_plugin
from training.metrics import prf

PLUGIN_FILES = ("pykrita/smart_lineart.desktop", "pykrita/smart_lineart/__init__.py", "pykrita/smart_lineart/Manual.html",
                "pykrita/smart_lineart/krita/docker.py", "pykrita/smart_lineart/engine/tiling.py",
                f"pykrita/smart_lineart/models/{DEFAULT_MODEL}.onnx", f"pykrita/smart_lineart/models/{DEFAULT_MODEL}.json",
                "actions/smart_lineart.action")


def _needed(k: Krita) -> Krita:
    if not k.available():
        if os.environ.get("CI"):
            pytest.fail(f"Krita {k.name} is required in CI: `make krita` installs or builds it")
        pytest.skip(f"Krita {k.name} is not here (`make krita` as root installs or builds it)")
    return k


@pytest.fixture(scope="module", params=KRITAS, ids=lambda k: f"krita-{k.name}")
def krita(request) -> Krita:
    return _needed(request.param)


def kritarunner(krita: Krita, function: str, resources, job_file, module: str = "e2e") -> None:
    env = {"QT_QPA_PLATFORM": "offscreen", "SMART_LINEART_E2E": str(job_file), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": f"{resources / 'pykrita'}{os.pathsep}{ROOT / 'tests' / 'krita'}",
           "XDG_RUNTIME_DIR": str(resources / "runtime"), "HOME": str(resources / "home")}
    (resources / "runtime").mkdir(mode=0o700, exist_ok=True)
    (resources / "home").mkdir(exist_ok=True)
    krita.run(["kritarunner", "-s", module, "-f", function], [ROOT, resources, job_file.parent], env)


@pytest.fixture(scope="module")
def krita_run(krita, tmp_path_factory):
    resources = tmp_path_factory.mktemp("krita-resources")
    out = tmp_path_factory.mktemp("krita-out")
    install_plugin(krita, resources)
    from training.synth import make_pair
    grey = make_pair(np.random.default_rng(TEST_SEED + 2), 320, brush=0).grey
    np.save(out / "sketch.npy", grey)
    Image.fromarray(grey).save(out / "sketch.png")
    job = out / "job.json"
    job.write_text(json.dumps({"sketch": str(out / "sketch.npy"), "out": str(out)}))
    kritarunner(krita, "main", resources, job)
    kritarunner(krita, "docker_main", resources, job)
    return out, resources


def _results(path):
    assert path.exists(), "Krita wrote no results: the plugin or Krita failed to start"
    res = json.loads(path.read_text())
    assert not res["errors"], "\n".join(res["errors"])
    assert res["finished"]
    return res["checks"]


def test_install_layout(krita, krita_run):
    _, resources = krita_run
    for rel in PLUGIN_FILES:
        assert (resources / rel).exists(), rel
    # the runtime: Krita's own where it has one, else the dependency folder beside the plugin
    where = {"make install": "pykrita/smart_lineart_deps/numpy", "runtime zip": "pykrita/smart_lineart/deps/numpy"}
    for how, rel in where.items():
        assert (resources / rel).exists() == (krita.install == how), rel


def test_all_checks_inside_krita(krita_run):
    out, _ = krita_run
    checks = _results(out / "results.json")
    failed = {k: v["detail"] for k, v in checks.items() if not v["ok"]}
    assert not failed, failed
    assert len(checks) >= 34


@pytest.mark.parametrize("fmt", ["RGBA-U8", "RGBA-U16", "RGBA-F16", "RGBA-F32", "GRAYA-U8", "CMYKA-U8", "LABA-U16"])
def test_layer_matches_cli_output(krita_run, fmt, tmp_path):
    out, _ = krita_run
    res = run_cli(str(out / "sketch.png"), "-o", str(tmp_path / "cli.png"), "--thickness", "3", "--quiet")
    assert res.returncode == 0, res.stderr
    cli = np.asarray(Image.open(tmp_path / "cli.png"))
    layer = np.load(out / f"{fmt}.npy")
    assert layer.shape == cli.shape
    assert (cli < 191).sum() > 100  # lines to compare
    assert prf(layer < 191, cli < 191, 2)[2] >= 0.97


def test_docker_screenshot(krita, krita_run):
    out, _ = krita_run
    checks = _results(out / "docker.json")
    assert all(v["ok"] for v in checks.values()), checks
    shot = Image.open(out / "docker.png")
    assert shot.size == (380, 720)
    os.makedirs(ROOT / "build", exist_ok=True)
    shutil.copy(out / "docker.png", ROOT / "build" / f"docker-{krita.name}.png")


def test_dist_zip_imports_with_kritas_own_importer(krita, tmp_path):
    assert import_zip(krita, dist_zip(), tmp_path) == ["smart_lineart"]
    for rel in PLUGIN_FILES:
        assert (tmp_path / rel).exists(), rel


@pytest.mark.parametrize("bare", [k for k in KRITAS if not k.runtime_in_krita], ids=lambda k: f"krita-{k.name}")
def test_without_a_runtime_the_plugin_says_what_to_install(bare, tmp_path):
    """The plugin zip alone in a Krita whose Python has no numpy: no traceback, the action and
    the docker name the zip to install."""
    krita = _needed(bare)
    resources = tmp_path / "resources"
    resources.mkdir()
    assert import_zip(krita, dist_zip(), resources) == ["smart_lineart"]
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"out": str(tmp_path)}))
    kritarunner(krita, "main", resources, job, module="no_runtime")
    res = json.loads((tmp_path / "no_runtime.json").read_text())
    assert not res["errors"], res["errors"]
    python = krita.python().replace(".", "")
    assert res["extension"]
    assert "needs numpy and OpenVINO" in res["docker_text"] and f"-py{python}-linux_" in res["docker_text"], \
        res["docker_text"]
