"""An annotator's pass over a dataset in the real window, timed: open, refine all objects, accept, next — with a
kill (SIGKILL) between two photos and a reopen that must resume with nothing lost.

    python bench/annotate_20.py [--folder ANN.json --images DIR] [--count 20] [--kill-after 10] [--shots DIR]

Without --folder it makes a COCO file of the first --count photos of /work/data/ccp_objects (Clothing Co-Parsing
0451-0500, one polygon object per garment, hair and skin: bench/make_ccp_objects.py); photos 0501-1004 are held
out and refused. Starts Xvfb on :98 when there is no DISPLAY, then ``crm-studio --folder ...`` with its settings
and data in a temporary home, and drives it with xdotool as a person would with the keyboard (the window focused
once, then plain key presses): Ctrl+Shift+R (refine all objects of the photo), then, once the photo shows as
refined, Ctrl+Enter (accept it and go to the next). The app's own record of the work (the folder's state.json in
its work folder) tells when each step is done. After --kill-after photos the app is killed and started again: it
must reopen at the next photo, every status kept, and every accepted photo's kept work must hold all its objects
refined. Prints seconds per photo (the first includes loading the model), their median, the keys pressed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CCP = Path("/work/data/ccp_objects")
HELD_OUT = 501  # Clothing Co-Parsing photos 0501-1004 are the team's held-out set: never used here
KEYS_PER_PHOTO = ("ctrl+shift+r", "ctrl+Return")


def xdo(*args: str, env: dict) -> str:
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, check=False).stdout.strip()


def ccp_subset(count: int, out: Path) -> tuple[Path, Path]:
    """The first ``count`` photos of the CCP objects set as their own COCO file (photos stay where they are)."""
    data = json.loads((CCP / "coarse.json").read_text())
    images = sorted(data["images"], key=lambda im: im["id"])[:count]
    if any(int(Path(im["file_name"]).stem) >= HELD_OUT for im in images):
        raise SystemExit(f"photos {HELD_OUT:04d}-1004 are held out; this set would use one")
    ids = {im["id"] for im in images}
    subset = dict(data, images=images, annotations=[a for a in data["annotations"] if a["image_id"] in ids])
    path = out / "coarse20.json"
    path.write_text(json.dumps(subset))
    return path, CCP / "gt" / "JPEGImages"


def start_app(args: argparse.Namespace, env: dict) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "app", "--folder", str(args.folder), "--images", str(args.images)]
    app = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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


def work_dir(home: Path) -> Path | None:
    found = sorted(home.glob("data/**/folders/*/state.json"))
    return found[0].parent if found else None


def state(home: Path) -> dict:
    folder = work_dir(home)
    try:
        return json.loads((folder / "state.json").read_text()) if folder else {}
    except (OSError, ValueError):
        return {}


def wait_for(home: Path, test, what: str, timeout: float = 600.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = state(home)
        if current and test(current):
            return current
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def kept_refined(home: Path, name: str) -> tuple[int, int]:
    """(objects refined, objects) in the work kept for a photo (its project in the work folder)."""
    sys.path.insert(0, str(ROOT))
    from app import project

    path = work_dir(home) / (hashlib.sha1(name.encode("utf-8")).hexdigest()[:16] + project.SUFFIX)
    if not path.is_file():
        return 0, -1
    objects = project.load(path).objects
    return sum(1 for o in objects if o.stages), len(objects)


def shot(args: argparse.Namespace, name: str, env: dict) -> None:
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
        time.sleep(0.5)
        subprocess.run(["import", "-window", "root", str(args.shots / f"{name}.png")], env=env, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, help="a COCO file (default: CCP 0451-0470 as one)")
    parser.add_argument("--images", type=Path)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--kill-after", type=int, default=10, help="kill the app after this many photos (0: never)")
    parser.add_argument("--shots", type=Path, help="save screenshots of the screen here")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="crm-annotate-"))
    if args.folder is None:
        args.folder, args.images = ccp_subset(args.count, home)
    env = dict(os.environ)
    xvfb = None
    if not env.get("DISPLAY"):
        env["DISPLAY"] = ":98"
        xvfb = subprocess.Popen(["Xvfb", ":98", "-screen", "0", "1400x900x24"], stderr=subprocess.DEVNULL)
        time.sleep(1.5)
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))
    app, window = start_app(args, env)
    seconds: list[float] = []
    keys = 0
    try:
        first = wait_for(home, lambda s: "position" in s, "the folder to open", 120)
        names = list(first["status"])[: args.count]
        time.sleep(1.0)
        shot(args, "00_opened", env)
        for i, name in enumerate(names):
            if args.kill_after and i == args.kill_after:
                app.send_signal(signal.SIGKILL)
                app.wait()
                before = {n: kept_refined(home, n) for n in names[:i]}
                app, window = start_app(args, env)
                time.sleep(1.0)
                resumed = state(home)
                shot(args, f"{i:02d}_reopened", env)
                accepted = sum(1 for n in names[:i] if resumed["status"][n] == "accepted")
                whole = sum(1 for n in names[:i] if before[n][0] == before[n][1] > 0)
                print(f"killed (SIGKILL) and reopened: resumed at {resumed['position']} (expected {name}); "
                      f"{accepted}/{i} accepted statuses kept; {whole}/{i} accepted photos with every object's "
                      f"refined work kept", flush=True)
            start = time.monotonic()
            xdo("key", KEYS_PER_PHOTO[0], env=env)
            wait_for(home, lambda s: s["status"][name] == "refined", f"{name} to be refined")
            if i in (0, 1) or i == args.kill_after:
                shot(args, f"{i:02d}_refined_{Path(name).stem}", env)
            xdo("key", KEYS_PER_PHOTO[1], env=env)
            keys += len(KEYS_PER_PHOTO)
            last = i == len(names) - 1
            wait_for(home, lambda s: s["status"][name] == "accepted" and (last or s["position"] != name),
                     f"{name} to be accepted")
            seconds.append(time.monotonic() - start)
            print(f"{i + 1:2d} {name}: {seconds[-1]:.1f} s", flush=True)
        shot(args, "99_done", env)
    finally:
        app.terminate()
        app.wait(timeout=30)
        if xvfb is not None:
            xvfb.terminate()
    after_first = seconds[1:] or seconds
    print(f"{len(seconds)} photos: median {statistics.median(after_first):.1f} s per photo after the first, "
          f"first {seconds[0]:.1f} s (loads the model), total {sum(seconds):.0f} s; "
          f"{keys} key presses ({' then '.join(KEYS_PER_PHOTO)} per photo), no mouse")
    return 0


if __name__ == "__main__":
    sys.exit(main())
