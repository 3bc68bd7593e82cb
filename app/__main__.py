"""``crm-studio [IMAGE [MASK]]``: start the desktop app, optionally with a photo and its coarse mask."""

from __future__ import annotations

import argparse
import sys
import threading
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
    return parser.parse_args(argv)


def build_window(argv: Sequence[str] | None = None, settings: Settings | None = None) -> MainWindow:
    """The window as the command line asks for it; tests drive this same path with their own settings."""
    args = parse_args(argv)
    from app.main_window import MainWindow
    from crm_core.matting import warm_up

    threading.Thread(target=warm_up, name="matting warm-up", daemon=True).start()

    window = MainWindow(settings)
    window.show()
    if not window.offer_restore() and args.image:
        window.open_files(args.image, args.mask)
    return window


def main(argv: Sequence[str] | None = None) -> int:
    """Qt is imported only after the arguments parse, so ``--help`` answers without loading it."""
    parse_args(argv)
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.main_window import ICON
    from app.settings import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setDesktopFileName("crm-studio")
    app.setWindowIcon(QIcon(str(ICON)))
    window = build_window(argv)
    app.aboutToQuit.connect(window.deleteLater)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
