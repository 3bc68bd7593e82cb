"""The engine and its command lines stand without Qt: importing them must never pull in PySide6 (a server or
a CI box runs ``crm-refine`` without a display library, and a core module that imported Qt would break that)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from crm_core.device import DEVICES, device_available

ENGINE_MODULES = ("crm_core", "crm_core.cli.refine", "crm_core.cli.eval", "crm_core.cli.dataset",
                  "crm_core.formats", "crm_core.objects", "crm_core.pairing", "crm_core.device")


def test_the_engine_and_its_command_lines_never_import_qt() -> None:
    probe = ("import importlib, json, sys\n"
             f"for name in {list(ENGINE_MODULES)!r}:\n"
             "    importlib.import_module(name)\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'app'))))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_probe_would_see_qt_if_it_were_imported() -> None:
    """The check above can fail: importing an app module in the same probe shows PySide6 in sys.modules."""
    probe = "import sys, app.document; print('PySide6' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True", done.stderr


@pytest.mark.parametrize("name", ["auto", "cpu"])
def test_auto_and_cpu_are_always_available(name: str) -> None:
    assert name in DEVICES and device_available(name)


def test_an_unknown_device_is_not_available() -> None:
    assert not device_available("tpu")
