"""Runs inside real Krita without numpy or a runtime (kritarunner -s no_runtime -f main): the
plugin still loads, and its action and docker say what to install. Writes OUT/no_runtime.json."""
import json
import os
import traceback


def main(*_):
    job = json.load(open(os.environ["SMART_LINEART_E2E"]))
    res = {"errors": []}
    try:
        from krita import Krita

        import smart_lineart  # noqa: F401  (registers the plugin)
        from smart_lineart.krita.extension import MissingRuntime, MissingRuntimeDocker
        res["extension"] = any(isinstance(e, MissingRuntime) for e in Krita.instance().extensions())
        docker = MissingRuntimeDocker()
        res["docker_text"] = docker.status.text()
        docker.deleteLater()
    except Exception:
        res["errors"].append(traceback.format_exc())
    with open(os.path.join(job["out"], "no_runtime.json"), "w") as f:
        json.dump(res, f)
