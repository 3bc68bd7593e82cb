"""A photo editor's journey in the real window: a photo with no mask → Select Subject → Refine → cutout export.

Run by hand under X (not in CI); it starts its own Xvfb when DISPLAY is unset:
    python bench/journey_subject.py [--photo PATH] [--shots DIR] [--refine-wait S]

It copies the photo (default: the bundled sample, without its mask) to a temporary folder, opens it in CRM
Studio in a temporary home (no settings, no autosave to restore), and presses what a person would press:
Ctrl+Alt+S, Ctrl+R, Ctrl+E, Down ×3 (the cutout), Enter. It prints the keys pressed and the seconds from launch
to the written cutout. The waits after Select Subject and Refine are fixed (the window does not report when a
job ends to another process), so the time is an upper bound; screenshots of each step go to --shots.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = (("ctrl+alt+s", "subject"), ("ctrl+r", "refine"), ("ctrl+e", "export dialog"), ("Down Down Down", "cutout"),
        ("Return", "save"))


def xdo(*args: str, env: dict) -> str:
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, check=False).stdout.strip()


def shot(path: Path, env: dict) -> None:
    subprocess.run(["import", "-window", "root", str(path)], env=env, check=False)


def journey_args(doc: str) -> argparse.ArgumentParser:
    """The options every journey takes."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photo", default=str(ROOT / "resources" / "samples" / "sample.jpg"))
    parser.add_argument("--shots", default=None, help="folder for a screenshot after each step")
    parser.add_argument("--subject-wait", type=float, default=6.0, help="seconds allowed for Select Subject")
    parser.add_argument("--refine-wait", type=float, default=20.0, help="seconds allowed for Refine")
    return parser


def launch(args: argparse.Namespace) -> tuple[dict, Path, Path | None, subprocess.Popen, subprocess.Popen | None]:
    """A copy of the photo opened in CRM Studio in a fresh home, its window 1400×900 at the screen's corner and
    focused: (env, photo, shots folder, app, own Xvfb or None)."""
    work = Path(tempfile.mkdtemp(prefix="crm-journey-"))
    env = dict(os.environ, HOME=str(work / "home"), XDG_CONFIG_HOME=str(work / "cfg"), XDG_DATA_HOME=str(work / "data"))
    xvfb = None
    if "DISPLAY" not in os.environ:
        env["DISPLAY"] = ":97"
        xvfb = subprocess.Popen(["Xvfb", ":97", "-screen", "0", "1400x900x24"], stderr=subprocess.DEVNULL)
        time.sleep(2)
    photo = work / Path(args.photo).name
    shutil.copy(args.photo, photo)
    shots = Path(args.shots) if args.shots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    app = subprocess.Popen([sys.executable, "-m", "app", str(photo)], cwd=ROOT, env=env)
    window, start = "", time.perf_counter()
    while not window and time.perf_counter() - start < 60:
        time.sleep(0.5)
        window = xdo("search", "--name", "CRM Studio", env=env).split("\n")[0]
    xdo("windowsize", window, "1400", "900", env=env)
    xdo("windowmove", window, "0", "0", env=env)
    time.sleep(2)
    xdo("windowfocus", "--sync", window, env=env)
    return env, photo, shots, app, xvfb


def step_shot(shots: Path | None, step: str, env: dict) -> None:
    if shots:
        shot(shots / f"{len(list(shots.glob('*.png'))):02d}_{step.replace(' ', '_')}.png", env)


def close(app: subprocess.Popen, xvfb: subprocess.Popen | None) -> None:
    """Ends the app and the X server this script started (not a display the person passed)."""
    app.terminate()
    app.wait(10)
    if xvfb is not None:
        xvfb.terminate()


def wait_for(path: Path, start: float, limit: float = 300.0) -> float:
    """Seconds from start until path exists (or the limit)."""
    while not path.exists() and time.perf_counter() - start < limit:
        time.sleep(0.2)
    return time.perf_counter() - start


def main() -> None:
    args = journey_args(__doc__).parse_args()
    start = time.perf_counter()
    env, photo, shots, app, xvfb = launch(args)
    try:
        waits = {"subject": args.subject_wait, "refine": args.refine_wait, "export dialog": 2.0, "cutout": 0.5}
        for keys, step in KEYS:
            xdo("key", *keys.split(), env=env)
            time.sleep(waits.get(step, 0.0))
            step_shot(shots, step, env)
        cutout = photo.with_name(photo.stem + "_cutout.png")
        took = wait_for(cutout, start)
        print(f"keys: {', '.join(k for k, _ in KEYS)}")
        print(f"{'wrote ' + str(cutout) if cutout.exists() else 'no cutout written'} after {took:.1f} s "
              f"(fixed waits: Select Subject {args.subject_wait:g} s, Refine {args.refine_wait:g} s)")
    finally:
        close(app, xvfb)


if __name__ == "__main__":
    main()
