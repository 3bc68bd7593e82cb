"""``crm-studio [IMAGE [MASK]]``: start the desktop app, optionally with a photo and its coarse mask;
``crm-studio --folder DIR`` (or ``--folder ANN.json --images DIR``): go through a folder or dataset's photos.
``crm-studio --check``: say which system libraries Qt needs to open a window are missing, without opening one."""

from __future__ import annotations

import argparse
import ctypes
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from app.dataset_paths import names_a_dataset

if TYPE_CHECKING:
    from app.main_window import MainWindow
    from app.settings import Settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="crm-studio",
        description="Refine a coarse segmentation mask on a high-resolution photo with CRM.",
    )
    parser.add_argument("image", nargs="?", help="photo to open (JPEG, PNG, TIFF, WebP, BMP), a saved project "
                                                 "(.crmproj), or a dataset: a folder, a COCO file or a LabelMe "
                                                 ".json in its folder (as --folder)")
    parser.add_argument("mask", nargs="?", help="coarse mask for the photo (grey or alpha PNG)")
    parser.add_argument("--check", action="store_true",
                        help="check that the system libraries Qt needs on Linux are installed, then exit")
    parser.add_argument(
        "--refine-and-export", metavar="OUT", type=Path,
        help="unattended: open IMAGE (and MASK; without one, Select Subject makes it), refine with the window's "
             "settings, export a cutout to OUT and quit; exit status 0 when OUT is written, 1 (with the message on "
             "stderr) when a dialog would have appeared",
    )
    parser.add_argument("--folder", metavar="PATH",
                        help="open a folder of photos (with their masks or LabelMe/VOC/YOLO labels) or a COCO file, "
                             "at the photo where you stopped last time (given a label file or photo in it: at that "
                             "photo)")
    parser.add_argument("--images", metavar="DIR", help="the photos of a COCO file given with --folder")
    args = parser.parse_args(argv)
    if args.image and not args.mask and not args.folder and names_a_dataset(Path(args.image)):
        args.folder, args.image = args.image, None  # a folder or a dataset's file where a photo goes: what else
    if args.folder and args.image:
        parser.error("give either IMAGE [MASK] or --folder PATH, not both")
    if args.images and not args.folder:
        parser.error("--images goes with --folder ANN.json")
    if args.refine_and_export is not None and args.image is None:
        parser.error("--refine-and-export needs the IMAGE to refine")
    if args.mask and is_project(args.image):
        parser.error(f"{args.image} is a project, which holds its own masks; give it alone, or a photo with MASK")
    return args


def is_project(path: str | None) -> bool:
    """Whether the command line names a saved project rather than a photo (app.project is read here, not at
    start: it loads Qt, which --help and --check do without)."""
    if path is None:
        return False
    from app import project

    return project.is_project(path)


# The system libraries Qt's X11 platform plugin loads, and the Debian/Ubuntu package of each: the NEEDED entries
# (readelf -d) of PySide6's plugins/platforms/libqxcb.so, lib/libQt6XcbQpa.so.6, libQt6Gui.so.6 and
# libQt6DBus.so.6 that PySide6 does not ship itself. A minimal desktop install lacks some of them, and Qt's own
# error then names only xcb-cursor, whichever is missing.
QT_SYSTEM_LIBRARIES = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}


def missing_libraries(load: Callable[[str], object] = ctypes.CDLL) -> list[str]:
    """The libraries of QT_SYSTEM_LIBRARIES the dynamic loader cannot find (load: dlopen, as Qt's loader does)."""
    missing = []
    for soname in QT_SYSTEM_LIBRARIES:
        try:
            load(soname)
        except OSError:
            missing.append(soname)
    return missing


def binding_problem(calls: int = 1000) -> str | None:
    """Why the installed PySide6 cannot run the app for long, or None. PySide6 6.12.0 on Python 3.11 loses a
    reference to None on each call of a Qt method that returns nothing; after some thousands None is freed and
    Python aborts ("none_dealloc"), minutes into a session, edits since the last autosave lost. A thousand calls
    (a millisecond) tell it at start: such a binding loses one reference per call, while the rest of the process
    (the collector freeing an object, another thread) moves the count by a few either way, which a check for any
    loss at all took for the fault about one start in five."""
    from PySide6 import __version__ as version
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(calls):
        probe.setObjectName("probe")
    if before - sys.getrefcount(None) < calls // 2:
        return None
    return (f"PySide6 {version} loses Python's None a reference per Qt call on Python {sys.version.split()[0]} and "
            "would crash the app within minutes; install another release: pip install 'PySide6-Essentials<6.12'")


def check(load: Callable[[str], object] = ctypes.CDLL) -> int:
    """Print what is missing and the one apt command that installs it; exit 1 if anything is, else 0."""
    if not sys.platform.startswith("linux"):
        print("crm-studio: the library check is for Linux; on this system PySide6 brings what Qt needs")
        return 0
    missing = missing_libraries(load)
    if missing:
        packages = " ".join(QT_SYSTEM_LIBRARIES[name] for name in missing)
        print(f"crm-studio: Qt cannot open a window: {len(missing)} system libraries are missing "
              f"({', '.join(missing)}); install them with: sudo apt install {packages}", file=sys.stderr)
        return 1
    print(f"crm-studio: all {len(QT_SYSTEM_LIBRARIES)} system libraries Qt needs on X11 are installed")
    return 0


def build_window(argv: Sequence[str] | None = None, settings: Settings | None = None) -> MainWindow:
    """The window as the command line asks for it; tests drive this same path with their own settings."""
    args = parse_args(argv)
    from app.main_window import MainWindow
    from crm_core.matting import warm_up

    threading.Thread(target=warm_up, name="matting warm-up", daemon=True).start()

    window = MainWindow(settings)
    window.show()
    # work a killed window left is offered first, however the app was started (not to an unattended run: nobody
    # is there to answer, and the work waits for the next start); restored, it is what the window shows
    asked = Path(args.folder or args.image) if args.folder or args.image else None
    if args.refine_and_export is None and window.offer_restore(asked):
        return window
    if args.folder:  # read as a dropped or chosen path is; --images: the photos of a COCO file or written labels
        window.open_dataset_at(Path(args.folder), args.images)
    elif is_project(args.image):
        window.open_project(args.image)
    elif args.image:
        window.open_files(args.image, args.mask, offer_saved=args.refine_and_export is None)
    return window


def main(argv: Sequence[str] | None = None) -> int:
    """Qt is imported only after the arguments parse, so ``--help`` and ``--check`` answer without loading it."""
    args = parse_args(argv)
    if args.check:
        return check()
    problem = binding_problem()
    if problem is not None:
        print(f"crm-studio: {problem}", file=sys.stderr)
        return 1
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.main_window import ICON
    from app.settings import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setDesktopFileName("crm-studio")
    app.setWindowIcon(QIcon(str(ICON)))
    run = None
    if args.refine_and_export is not None:
        from app.unattended import UnattendedRun

        run = UnattendedRun(app, args.refine_and_export)  # before the window, so a failed open is caught too
    window = build_window(argv)
    app.aboutToQuit.connect(window.deleteLater)
    if run is not None:
        run.start(window)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
