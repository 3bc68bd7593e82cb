"""A photo editor's journey with a keep-brush fix, in the real window: a photo with no mask → Select Subject →
Refine → a "keep background" stroke over what should not be in the cutout → Refine → cutout export.

Run by hand under X (not in CI); it starts its own Xvfb when DISPLAY is unset:
    python bench/journey_keep.py [--photo PATH] [--shots DIR] [--stroke X0,Y0,X1,Y1] [--refine-wait S]

Like bench/journey_subject.py it opens a copy of the photo (default: the bundled sample, without its mask) in a
fresh home, presses what a person would press and prints each action with the seconds from launch, then the
seconds to the written cutout. The stroke is given in screen pixels of the 1400×900 window (the default crosses
the lower propeller blade of the sample, which Select Subject and Refine keep, as the canvas shows it fitted);
waits after the jobs are fixed, so the time is an upper bound.
"""

from __future__ import annotations

import time

from journey_subject import close, journey_args, launch, step_shot, wait_for, xdo


def main() -> None:
    parser = journey_args(__doc__)
    parser.add_argument("--stroke", default="507,390,507,440", help="keep-background stroke: X0,Y0,X1,Y1 on screen")
    parser.set_defaults(refine_wait=30.0)  # the sample's refine takes ~25 s on 2 CPU cores
    args = parser.parse_args()
    x0, y0, x1, y1 = (int(v) for v in args.stroke.split(","))
    start = time.perf_counter()
    env, photo, shots, app, xvfb = launch(args)
    actions: list[str] = []

    def act(what: str, *xdotool: str, wait: float = 0.0) -> None:
        xdo(*xdotool, env=env)
        actions.append(f"{time.perf_counter() - start:6.1f} s  {what}")
        time.sleep(wait)
        step_shot(shots, what.split(" (")[0], env)

    try:
        act("Select Subject (Ctrl+Alt+S)", "key", "ctrl+alt+s", wait=args.subject_wait)
        act("Refine (Ctrl+R)", "key", "ctrl+r", wait=args.refine_wait)
        act("Keep BG tool (J)", "key", "j")
        act("bigger brush (] ] ])", "key", "bracketright", "bracketright", "bracketright")
        xdo("mousemove", str(x0), str(y0), env=env)
        xdo("mousedown", "1", env=env)
        for i in range(1, 9):
            xdo("mousemove", str(x0 + (x1 - x0) * i // 8), str(y0 + (y1 - y0) * i // 8), env=env)
            time.sleep(0.05)
        act("keep-background stroke (drag)", "mouseup", "1", wait=0.5)
        act("Refine again (Ctrl+R)", "key", "ctrl+r", wait=args.refine_wait)
        act("cutout on checkerboard (V)", "key", "v", wait=1.0)
        act("Export (Ctrl+E)", "key", "ctrl+e", wait=2.0)
        act("cutout (Down x3)", "key", "Down", "Down", "Down", wait=0.5)
        act("save (Enter)", "key", "Return")
        cutout = photo.with_name(photo.stem + "_cutout.png")
        took = wait_for(cutout, start)
        print("\n".join(actions))
        print(f"{len(actions)} actions; {'wrote ' + str(cutout) if cutout.exists() else 'no cutout written'} "
              f"after {took:.1f} s (fixed waits: Select Subject {args.subject_wait:g} s, Refine {args.refine_wait:g} s)")
    finally:
        close(app, xvfb)


if __name__ == "__main__":
    main()
