"""The runtime zips' wheel-tag check and the plugin's own runtime check (no Krita needed; the
zips themselves are installed into real Kritas in tests/test_krita.py)."""
import sys

import pytest

from smart_lineart.krita import runtime
from tools.krita_runtime import check_tags, requirements


def _wheel(folder, name: str, *tags: str) -> None:
    d = folder / f"{name}.dist-info"
    d.mkdir()
    (d / "WHEEL").write_text("Wheel-Version: 1.0\n" + "".join(f"Tag: {t}\n" for t in tags))


@pytest.mark.parametrize("tag", ["cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64", "cp310-abi3-manylinux2014_x86_64",
                                 "py3-none-any"])
def test_wheels_for_this_python_and_platform_pass(tmp_path, tag):
    _wheel(tmp_path, "ok", tag)
    check_tags(tmp_path, "3.13", "linux_x86_64")


@pytest.mark.parametrize("tag", ["cp312-cp312-manylinux_2_28_x86_64", "cp313-cp313-win_amd64", "cp314-abi3-manylinux2014_x86_64",
                                 "cp313-cp313-macosx_11_0_arm64"])
def test_wheels_for_another_python_or_platform_are_refused(tmp_path, tag):
    _wheel(tmp_path, "bad", tag)
    with pytest.raises(SystemExit, match="not for Python 3.13 on linux_x86_64"):
        check_tags(tmp_path, "3.13", "linux_x86_64")


def test_pins_follow_the_python():
    assert requirements("3.10", False)[0] == "numpy==2.2.6"  # numpy 2.3 dropped 3.10
    assert requirements("3.13", True)[0].startswith("numpy==2.4") and len(requirements("3.13", True)) == 3


def test_runtime_check_names_the_zip_to_install(monkeypatch):
    assert runtime.missing() == ""  # the test environment has numpy and both runtimes
    monkeypatch.setattr(runtime.importlib.util, "find_spec", lambda name: None)
    msg = runtime.missing()
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert f"needs OpenVINO in Krita's Python {python}" in msg
    if (python, runtime.this_platform()) in runtime.DIST_TARGETS:
        assert runtime.zip_name(python, runtime.this_platform()) in msg
