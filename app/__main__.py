"""``crm-studio [IMAGE [MASK]]``: start the desktop app, optionally with a photo and its coarse mask."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from app.main_window import MainWindow
    from app.settings import Settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="crm-studio",
        description="Refine a coarse segmentation mask on a high-resolution photo with CRM.",
    )
    parser.add_argument("image", nargs="?", help="photo to open (JPEG, PNG, TIFF, WebP, BMP)")
    parser.add_argument("mask", nargs="?", help="coarse mask for the photo (grey or alpha PNG)")
    parser.add_argument(
        "--refine-and-export", metavar="OUT", type=Path,
        help="unattended: open IMAGE (and MASK), refine with the window's settings, export a cutout to OUT and "
             "quit; exit status 0 when OUT is written, 1 (with the message on stderr) when a dialog would have "
             "appeared",
    )
    args = parser.parse_args(argv)
    if args.refine_and_export is not None and args.image is None:
        parser.error("--refine-and-export needs the IMAGE to refine")
    return args


def build_window(argv: Sequence[str] | None = None, settings: Settings | None = None) -> MainWindow:
    """The window as the command line asks for it; tests drive this same path with their own settings."""
    args = parse_args(argv)
    from app.main_window import MainWindow
    from crm_core.matting import warm_up

    threading.Thread(target=warm_up, name="matting warm-up", daemon=True).start()

    window = MainWindow(settings)
    window.show()
    if args.image:
        window.open_files(args.image, args.mask)
    return window


def main(argv: Sequence[str] | None = None) -> int:
    """Qt is imported only after the arguments parse, so ``--help`` answers without loading it."""
    args = parse_args(argv)
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
