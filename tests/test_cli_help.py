"""`handviewer --help` and every `handviewer COMMAND --help` build the parser without loading torch,
scipy or Qt (each sub-command imports its work only when it runs), in a fresh interpreter."""

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "scipy", "PySide6")

# Runs `python -m handviewer ARGS` in this interpreter, then reports which heavy modules it loaded.
PROBE = """
import json, runpy, sys
sys.argv = ["handviewer", *sys.argv[1:]]
try:
    runpy.run_module("handviewer", run_name="__main__", alter_sys=True)
except SystemExit as stop:
    code = stop.code
print("PROBE " + json.dumps({"code": code, "loaded": [m for m in %r if m in sys.modules]}))
""" % (HEAVY,)


def probe(*args: str) -> tuple[str, dict]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text, _, report = done.stdout.rpartition("PROBE ")
    return text, json.loads(report)


@pytest.mark.parametrize("command", ["", "process", "detect", "make-sample", "train-occupancy", "eval-occupancy",
                                     "train-uplift", "mesh", "demo", "open"])
def test_help_loads_neither_torch_nor_scipy_nor_qt(command):
    text, report = probe(*([command] if command else []), "--help")
    assert report["code"] == 0
    assert report["loaded"] == [], f"`handviewer {command} --help` loaded {report['loaded']}"
    assert "usage: handviewer" in text


def test_main_help_lists_every_command():
    text, _ = probe("--help")
    for command in ("demo", "open", "mesh", "process", "make-sample", "train-occupancy", "eval-occupancy", "train-uplift"):
        assert command in text


def test_process_help_names_its_options():
    text, _ = probe("process", "--help")
    for option in ("--out", "--batch", "--point-set", "--device", "--weight", "--safe"):
        assert option in text
