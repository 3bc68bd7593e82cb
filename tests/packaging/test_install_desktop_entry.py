"""packaging/install_desktop_entry.py: the menu entry must start the bundle wherever it lies (no bundle is built
here: a small script stands in for the executable and records that it ran, with which file)."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "install_desktop_entry.py"


def fake_bundle(folder: Path) -> Path:
    """A bundle folder whose executable writes its arguments to ran.txt beside itself."""
    executable = folder / "crm-studio"
    executable.parent.mkdir(parents=True)
    executable.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/ran.txt"\n')
    executable.chmod(0o755)
    return executable


def install(bundle: Path, home: Path, data_home: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    env["HOME"] = str(home)
    if data_home is not None:
        env["XDG_DATA_HOME"] = str(data_home)
    return subprocess.run([sys.executable, str(SCRIPT), str(bundle)], env=env, capture_output=True, text=True,
                          timeout=60)


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop entries
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def exec_arguments(value: str) -> list[str]:
    """Splits an Exec value as the desktop entry spec reads it: the string escape \\\\ first, then arguments that
    are bare or in double quotes with \\", \\`, \\$ and \\\\ escaped, then %% for a literal percent."""
    value = value.replace("\\\\", "\\")
    arguments = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', value)
    return [re.sub(r"\\(.)", r"\1", quoted).replace("%%", "%") if quoted else bare for quoted, bare in arguments]


def launch(entry: dict[str, str], file: Path) -> None:
    """What a menu does on "Open with": expand %f to the file and run the command."""
    argv = [str(file) if arg == "%f" else arg for arg in exec_arguments(entry["Exec"])]
    subprocess.run(argv, check=True, timeout=30)


@pytest.mark.parametrize("folder", ["CRM Studio", 'odd "name" $HOME `x` back\\slash 100%'])
def test_the_entry_starts_the_bundle_by_its_absolute_path(tmp_path: Path, folder: str) -> None:
    executable = fake_bundle(tmp_path / "apps" / folder / "crm-studio")
    home = tmp_path / "home"

    done = install(executable.parent, home)

    assert done.returncode == 0, done.stderr
    entry_path = home / ".local" / "share" / "applications" / "crm-studio.desktop"
    entry = read_entry(entry_path)
    assert exec_arguments(entry["Exec"]) == [str(executable), "%f"]
    assert entry["TryExec"].replace("\\\\", "\\") == str(executable)  # the menu hides the entry if it is gone
    photo = tmp_path / "a photo.jpg"
    launch(entry, photo)
    assert (executable.parent / "ran.txt").read_text().splitlines() == [str(photo)]
    # the rest of the template is kept: name, icon, the file types it opens
    assert entry["Name"] == "CRM Studio" and entry["Icon"] == "crm-studio"
    assert "image/jpeg" in entry["MimeType"]
    for icon, place in (("crm-studio.svg", "scalable"), ("crm-studio.png", "256x256")):
        installed = home / ".local" / "share" / "icons" / "hicolor" / place / "apps" / icon
        assert installed.read_bytes() == (ROOT / "resources" / "icons" / icon).read_bytes()


def test_xdg_data_home_is_respected_and_a_second_install_replaces_the_first(tmp_path: Path) -> None:
    old = fake_bundle(tmp_path / "old" / "crm-studio")
    new = fake_bundle(tmp_path / "new" / "crm-studio")
    data_home = tmp_path / "data"

    assert install(old.parent, tmp_path / "home", data_home).returncode == 0
    assert install(new, tmp_path / "home", data_home).returncode == 0  # the executable itself works as well

    entry = read_entry(data_home / "applications" / "crm-studio.desktop")
    assert exec_arguments(entry["Exec"])[0] == str(new)
    assert not (tmp_path / "home" / ".local").exists()
    assert not list((data_home / "applications").glob("*.tmp"))


def test_a_missing_bundle_is_refused_in_one_sentence_and_nothing_is_written(tmp_path: Path) -> None:
    home = tmp_path / "home"

    done = install(tmp_path / "dist" / "crm-studio", home)

    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "is not an executable file; build the bundle first" in done.stderr
    assert not home.exists()
