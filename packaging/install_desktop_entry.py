"""Add the built bundle to the Linux application menu of the current user.

Why not just copy crm-studio.desktop: its ``Exec=crm-studio`` finds the command of a pip install, which a
bundle does not put on PATH, so the menu entry did nothing. This writes the entry with Exec= (and TryExec=) set
to the bundle's executable by absolute path, and installs the icon into the user's hicolor theme.

    python packaging/install_desktop_entry.py [BUNDLE]     # BUNDLE: dist/crm-studio (default) or its executable

Writes $XDG_DATA_HOME/applications/crm-studio.desktop (~/.local/share when unset) and the icons beside it in
icons/hicolor; running it again replaces them. Needs only the standard library.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "packaging" / "crm-studio.desktop"
ICONS = ROOT / "resources" / "icons"
DEFAULT_BUNDLE = ROOT / "dist" / "crm-studio"
NAME = "crm-studio"
# the icon files and where the hicolor theme keeps each size
ICON_PLACES = {"crm-studio.svg": "scalable/apps", "crm-studio.png": "256x256/apps"}


def exec_argument(path: Path) -> str:
    """A path as one argument of a desktop entry's Exec key: quoted, with the characters the spec reserves
    inside quotes escaped, and then the string-level escaping of backslashes applied on top."""
    quoted = "".join("\\" + c if c in '"`$\\' else c for c in str(path))
    return '"' + quoted.replace("\\", "\\\\").replace("%", "%%") + '"'


def entry_text(template: str, executable: Path) -> str:
    """The template with Exec= (keeping its field codes) and TryExec= pointing at the executable."""
    lines = []
    for line in template.splitlines():
        key = line.split("=", 1)[0].strip()
        if key == "TryExec":
            continue
        if key == "Exec":
            codes = line.split("=", 1)[1].split()[1:]
            lines.append("TryExec=" + str(executable).replace("\\", "\\\\"))
            line = "Exec=" + " ".join([exec_argument(executable), *codes])
        lines.append(line)
    return "\n".join(lines) + "\n"


def find_executable(bundle: Path) -> Path:
    executable = bundle / NAME if bundle.is_dir() else bundle
    if not executable.is_file() or not os.access(executable, os.X_OK):
        raise SystemExit(f"install_desktop_entry: {executable} is not an executable file; build the bundle "
                         f"first (python packaging/build_bundle.py) or give the bundle's folder")
    return executable.resolve()


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False) as f:
        f.write(data)
    os.chmod(f.name, 0o644)
    os.replace(f.name, path)


def install(bundle: Path, data_home: Path) -> Path:
    """Writes the menu entry and the icons under ``data_home``; returns the entry's path."""
    executable = find_executable(bundle)
    entry = data_home / "applications" / f"{NAME}.desktop"
    for icon, place in ICON_PLACES.items():
        write_atomically(data_home / "icons" / "hicolor" / place / icon, (ICONS / icon).read_bytes())
    write_atomically(entry, entry_text(TEMPLATE.read_text(encoding="utf-8"), executable).encode("utf-8"))
    if shutil.which("update-desktop-database"):  # refreshes the MIME associations ("Open with")
        subprocess.run(["update-desktop-database", str(entry.parent)], check=False, capture_output=True)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", type=Path, default=DEFAULT_BUNDLE,
                        help="the bundle's folder or its executable (default: dist/crm-studio)")
    args = parser.parse_args(argv)
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    entry = install(args.bundle, data_home)
    print(f"installed {entry}; the menu entry runs {find_executable(args.bundle)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
