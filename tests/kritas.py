"""The Kritas the in-Krita tests run in: this machine's (Debian 12: Krita 5.1.5, Python 3.11) and
newer ones from Debian's archive in cached throw-away roots (trixie: 5.2.9, Python 3.13; sid:
5.3.4, Python 3.14). A root is entered with chroot inside a private mount namespace, so /proc,
/dev and the bound test folders are unmounted when the process ends, however it ends.

`python -m tests.kritas` builds the missing roots (mmdebstrap, about 90 s each, 1.3 GB); the
cache folder is $SMART_LINEART_KRITA_ROOTS (default /var/cache/smart-lineart).
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from smart_lineart import __version__

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("SMART_LINEART_KRITA_ROOTS", "/var/cache/smart-lineart"))
PACKAGES = "krita,python3,python3-pyqt5,xvfb,xauth"


@dataclass(frozen=True)
class Krita:
    """One Krita to test in. `suite` None: the one installed on this machine."""
    name: str  # "5.1": what the tests are labelled with
    suite: str | None = None
    # How the plugin is installed, each the way some artists do it: "make install" (the plugin and
    # a dependency folder beside it); "runtime zip" (numpy and OpenVINO inside the plugin zip);
    # "zip" (the plugin alone: this Krita stands in for an official build, whose own Python has
    # numpy and OpenVINO, installed into the root's Python when it is built).
    install: str = "make install"

    @property
    def runtime_in_krita(self) -> bool:
        return self.install == "zip"

    @property
    def root(self) -> Path | None:
        return CACHE / f"krita-{self.suite}" if self.suite else None

    def available(self) -> bool:
        if self.root is None:
            return shutil.which("kritarunner") is not None
        return (self.root / "usr/bin/kritarunner").exists()

    def python(self) -> str:
        """The version of Python this Krita embeds ("3.13")."""
        return _python(self.root)

    def command(self, argv: list[str], binds: list[Path], env: dict[str, str] | None = None) -> list[str]:
        """argv inside this Krita's system, with `binds` visible at the same paths."""
        return _command(self.root, argv, binds, env)

    def run(self, argv: list[str], binds: list[Path], env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(argv, binds, env), capture_output=True, text=True, timeout=timeout)


def _command(root: Path | None, argv: list[str], binds: list[Path], env: dict[str, str] | None) -> list[str]:
    env_args = ["env", "-i", *(f"{k}={v}" for k, v in env.items())] if env is not None else []
    if root is None:
        return env_args + argv
    r = shlex.quote(str(root))
    script = [f"mount -t proc proc {r}/proc", f"mount --rbind /dev {r}/dev"]
    for b in binds:
        q = shlex.quote(str(b))
        script += [f"mkdir -p {r}{q}", f"mount --bind {q} {r}{q}"]
    script.append(f"exec chroot {r} " + " ".join(shlex.quote(a) for a in env_args + argv))
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-ec", " && ".join(script)]


def _python(root: Path | None) -> str:
    argv = ["python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    return subprocess.run(_command(root, argv, [], None), capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()


def dist_zip() -> str:
    dist = subprocess.run(["make", "-s", "dist"], cwd=ROOT, capture_output=True, text=True)
    assert dist.returncode == 0, dist.stderr
    return str(ROOT / "dist" / f"smart_lineart-{__version__}.zip")


def import_zip(krita: Krita, zip_path: str, resources) -> list[str]:
    """The zip installed by Krita's own importer code, run by that Krita's Python."""
    res = krita.run(["python3", str(ROOT / "tests" / "krita" / "import_zip.py"), zip_path, str(resources)],
                    [ROOT, resources])
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def runtime_zip(python: str) -> str:
    tag = f"py{python.replace('.', '')}-linux_{os.uname().machine}"
    dist = subprocess.run(["make", "-s", "dist-runtime", f"ONLY={tag}"], cwd=ROOT, capture_output=True, text=True)
    assert dist.returncode == 0, dist.stderr
    return str(ROOT / "dist" / f"smart_lineart-{__version__}-{tag}.zip")


def install_plugin(krita: Krita, resources: Path) -> None:
    """As the Krita's users would (see Krita.install)."""
    if krita.install != "make install":
        zip_path = dist_zip() if krita.install == "zip" else runtime_zip(krita.python())
        assert import_zip(krita, zip_path, resources) == ["smart_lineart"]
        return
    install = subprocess.run(["make", "-s", "install", f"KRITA_RESOURCES={resources}", f"KRITA_PYTHON={krita.python()}"],
                             cwd=ROOT, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr


KRITAS = [Krita("5.1"), Krita("5.2", "trixie", install="runtime zip"), Krita("5.3", "sid", install="zip")]


def build(krita: Krita) -> None:
    """mmdebstrap the root into a temporary folder, then rename: a root is whole or absent."""
    assert krita.root is not None and krita.suite is not None
    if krita.available():
        return
    if shutil.which("mmdebstrap") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "mmdebstrap"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    tmp = krita.root.with_name(krita.root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mmdebstrap", "--variant=apt", "--aptopt=Acquire::Check-Valid-Until \"false\"",
                    f"--include={PACKAGES}", krita.suite, str(tmp)], check=True)
    if krita.runtime_in_krita:
        install_runtime(tmp)
    os.rename(tmp, krita.root)


def install_runtime(root: Path) -> None:
    """numpy and OpenVINO into the root's Python, as an official Krita build has them."""
    python = _python(root)
    subprocess.run([sys.executable, "-m", "tools.krita_runtime", "--python", python, "--platform",
                    f"linux_{os.uname().machine}", "--target", str(root / f"usr/local/lib/python{python}/dist-packages")],
                   check=True, cwd=ROOT)


def main() -> None:
    if os.geteuid() != 0:
        print("Building Krita roots needs root (mmdebstrap, chroot): the newer Kritas' tests will be skipped "
              "(not in CI).")
        return
    for krita in KRITAS:
        if krita.suite:
            build(krita)
            print(f"Krita {krita.name}: {krita.root}")


if __name__ == "__main__":
    main()
