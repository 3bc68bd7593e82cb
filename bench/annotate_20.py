"""An annotator's pass over a dataset in the real window, timed: open, refine all objects, accept, next.

    python bench/annotate_20.py --folder ANN.json --images DIR [--count 20] [--kill-after 10] [--shots DIR]

Starts Xvfb (display :99) when there is no DISPLAY, then ``crm-studio --folder ...`` with its settings and data
in a temporary home, and drives it with xdotool as a person would with the keyboard: Ctrl+Shift+R (refine all
objects of the photo), then, once the photo shows as refined, Ctrl+Enter (accept it and go to the next). The app's
own record of the work (the folder's state.json in its work folder) tells when each step is done. After
--kill-after photos the app is killed (SIGKILL) and started again: it must resume at the next photo with every
status kept. Prints seconds per photo (the first includes loading the model), their median and the total.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CCP = Path("/work/data/ccp_objects")


def xdo(*args: str, env: dict) -> str:
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, check=False).stdout.strip()


def start_app(args: argparse.Namespace, env: dict) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "app", "--folder", str(args.folder)]
    if args.images:
        command += ["--images", str(args.images)]
    app = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        window = xdo("search", "--name", "CRM Studio", env=env).split("\n")[0]
        if window:
            xdo("windowsize", window, "1400", "900", env=env)
            xdo("windowfocus", "--sync", window, env=env)
            return app, window
        if app.poll() is not None:
            raise SystemExit(f"crm-studio exited ({app.returncode}): {app.stderr.read()[-2000:]}")
        time.sleep(0.5)
    raise SystemExit("crm-studio opened no window in 120 s")


def state(home: Path) -> dict:
    found = sorted(home.glob("data/**/folders/*/state.json"))
    if not found:
        return {}
    try:
        return json.loads(found[0].read_text())
    except (OSError, ValueError):
        return {}  # caught between write and rename: read again


def wait_for(home: Path, test, what: str, timeout: float = 600.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = state(home)
        if current and test(current):
            return current
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=CCP / "coarse.json")
    parser.add_argument("--images", type=Path, default=CCP / "gt" / "JPEGImages")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--kill-after", type=int, default=10, help="kill the app after this many photos (0: never)")
    parser.add_argument("--shots", type=Path, help="save screenshots of the window here")
    args = parser.parse_args()
    env = dict(os.environ)
    xvfb = None
    if not env.get("DISPLAY"):
        env["DISPLAY"] = ":99"
        xvfb = subprocess.Popen(["Xvfb", ":99", "-screen", "0", "1400x900x24"], stderr=subprocess.DEVNULL)
        time.sleep(1.5)
    home = Path(tempfile.mkdtemp(prefix="crm-annotate-"))
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               QT_QPA_PLATFORM="xcb")
    app, window = start_app(args, env)
    seconds: list[float] = []
    try:
        first = wait_for(home, lambda s: "position" in s, "the folder to open", 120)
        names = list(first["status"])[: args.count]
        for i, name in enumerate(names):
            if args.kill_after and i == args.kill_after:
                app.send_signal(signal.SIGKILL)
                app.wait()
                app, window = start_app(args, env)
                resumed = wait_for(home, lambda s: True, "the folder to reopen", 120)
                kept = sum(1 for n in names[:i] if resumed["status"][n] == "accepted")
                print(f"killed and restarted: resumed at {resumed['position']} (expected {name}), "
                      f"{kept}/{i} accepted statuses kept", flush=True)
            start = time.monotonic()
            xdo("key", "--window", window, "ctrl+shift+r", env=env)
            wait_for(home, lambda s: s["status"][name] == "refined", f"{name} to be refined")
            if args.shots and i in (0, 1):
                args.shots.mkdir(parents=True, exist_ok=True)
                time.sleep(0.5)
                subprocess.run(["import", "-window", "root", str(args.shots / f"folder_{i}.png")], env=env, check=False)
            xdo("key", "--window", window, "ctrl+Return", env=env)
            last = i == len(names) - 1
            wait_for(home, lambda s: s["status"][name] == "accepted" and (last or s["position"] != name),
                     f"{name} to be accepted")
            seconds.append(time.monotonic() - start)
            print(f"{i + 1:2d} {name}: {seconds[-1]:.1f} s", flush=True)
    finally:
        app.terminate()
        app.wait(timeout=30)
        if xvfb is not None:
            xvfb.terminate()
    print(f"{len(seconds)} photos: median {statistics.median(seconds):.1f} s per photo, "
          f"first {seconds[0]:.1f} s (loads the model), total {sum(seconds):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
