"""Python's cyclic garbage collected on the GUI thread only.

Why: the collector runs in whichever thread allocates past its threshold. A window, a document or a dialog left in
a reference cycle (a widget holding a bound method of its window is one) was then destroyed on a refine or
folder-check thread; Qt's destructor there waited for a lock the GUI thread held while the GUI thread, deleting
widgets of its own, waited for Python's, and the whole program stood still (a test run hung so, 30 minutes). The
automatic collection is turned off and a timer on the GUI thread collects as the thresholds say it would have.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500  # between looks at the allocation counts; a collection of the young generation takes < 1 ms


class MainThreadCollector(QObject):
    """Made once, on the GUI thread, parented to the application so it lives as long."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(INTERVAL_MS)

    def collect(self) -> None:
        """The oldest generation whose count is over its threshold, as the automatic collector would choose."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return
