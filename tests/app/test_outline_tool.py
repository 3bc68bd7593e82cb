"""The Points tool: an object's outline as polygon points, moved, added and removed as in labelme, each one edit of
exactly the pixels between the outline before and after."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt

from app.canvas import CanvasView
from app.document import Document
from app.mask_object import KEEP_FG, MaskObject
from crm_core.formats.objects import ImageObject, fill_polygons
from crm_core.options import Stage

H, W = 200, 300
SQUARE = np.array([[60, 40], [239, 40], [239, 159], [60, 159]], float)  # pixel centres of the mask's corners


@pytest.fixture
def view(qtbot):
    """A 300×200 photo at 2× (image point p at widget point 2p + (20, 10)), one object: the square, traced."""
    canvas = CanvasView()
    qtbot.addWidget(canvas)
    canvas.resize(640, 420)
    doc = Document(np.full((H, W, 3), 20, np.uint8))
    doc.current.mask[40:160, 60:240] = 255
    canvas.set_document(doc)
    with qtbot.waitExposed(canvas):
        canvas.show()
    canvas.set_zoom(2.0)
    canvas.center_on(QPointF(W / 2, H / 2))
    canvas.set_tool("points")
    qtbot.waitUntil(lambda: bool(tool(canvas).rings()))
    return canvas


def tool(view: CanvasView):
    return view._tools["points"]


def at(view: CanvasView, x: float, y: float) -> QPoint:
    """Widget position of pixel centre (x, y) (crm_core's polygon coordinates)."""
    return view.map_from_image(QPointF(x + 0.5, y + 0.5)).toPoint()


def drag(view: CanvasView, qtbot, a: tuple[float, float], b: tuple[float, float]) -> None:
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=at(view, *a))
    qtbot.mouseMove(view, at(view, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
    qtbot.mouseMove(view, at(view, *b))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=at(view, *b))


def corners(view: CanvasView) -> set[tuple[float, float]]:
    return {tuple(p) for ring in tool(view).rings() for p in ring}


def test_the_outline_shows_the_mask_s_corners(view):
    assert corners(view) == {tuple(p) for p in SQUARE}


def test_a_dragged_point_moves_the_edge_to_it_and_one_undo_puts_it_back(view, qtbot):
    doc = view.document()
    drag(view, qtbot, (239, 40), (270, 10))
    moved = SQUARE.copy()
    moved[1] = (270, 10)
    assert np.array_equal(doc.mask > 127, fill_polygons((moved,), (H, W)))
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Move point"
    assert (270, 10) in corners(view)  # the outline stays as dragged, not re-traced under the hand
    doc.undo_stack.undo()
    assert np.array_equal(doc.mask > 127, fill_polygons((SQUARE,), (H, W)))
    qtbot.waitUntil(lambda: corners(view) == {tuple(p) for p in SQUARE})



def test_an_undo_of_a_move_shows_the_points_as_they_were_before_it_not_traced_again(view, qtbot):
    """After an Undo the outline was traced again: 7 points more, and an export written then moved every one."""
    doc = view.document()
    drag(view, qtbot, (239, 40), (262, 22))
    first = tool(view).rings()[0].copy()
    drag(view, qtbot, (60, 159), (45, 175))
    second = tool(view).rings()[0].copy()
    assert {(262, 22), (45, 175)} <= corners(view) and len(second) == 4
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: len(tool(view).rings()) == 1)
    assert np.array_equal(tool(view).rings()[0], first)  # the points as placed by the first move, exactly
    doc.undo_stack.redo()
    qtbot.waitUntil(lambda: len(tool(view).rings()) == 1)
    assert np.array_equal(tool(view).rings()[0], second)


def test_a_press_on_a_side_adds_a_point_there_and_drags_it(view, qtbot):
    doc = view.document()
    drag(view, qtbot, (150, 40), (150, 15))
    notched = np.insert(SQUARE, 1, (150, 15), axis=0)
    assert np.array_equal(doc.mask > 127, fill_polygons((notched,), (H, W)))
    assert len(tool(view).rings()[0]) == 5


def test_alt_click_removes_a_point_and_a_shape_keeps_three(view, qtbot):
    doc = view.document()
    notes = []
    doc.noted.connect(notes.append)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, at(view, 239, 40))
    triangle = np.delete(SQUARE, 1, axis=0)
    assert np.array_equal(doc.mask > 127, fill_polygons((triangle,), (H, W)))
    assert doc.undo_stack.undoText() == "Remove point"
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, at(view, 60, 40))
    assert doc.undo_stack.count() == 1 and "at least 3 points" in notes[-1]


def test_only_the_pixels_beside_the_moved_sides_change(view, qtbot):
    """A soft edge elsewhere (a matte's) stays soft: the edit is not the outline filled anew."""
    doc = view.document()
    doc.current.mask[40:160, 60] = 140  # the left side: not a side of the moved point
    soft = doc.mask.copy()
    drag(view, qtbot, (239, 40), (245, 35))
    changed = doc.mask != soft
    assert changed[:45, 220:].any() and changed[100:150, 237:].any()  # the top and right sides moved
    assert not changed[:, :62].any() and not changed[50:, :225].any()


def test_esc_during_a_drag_puts_the_point_back(view, qtbot):
    doc = view.document()
    before = doc.mask.copy()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=at(view, 239, 40))
    qtbot.mouseMove(view, at(view, 270, 10))
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=at(view, 270, 10))
    assert np.array_equal(doc.mask, before) and doc.undo_stack.count() == 0
    assert corners(view) == {tuple(p) for p in SQUARE}


def test_a_label_still_as_drawn_shows_its_own_points(qtbot):
    """As an export keeps them: a LabelMe polygon's 5 points, not a trace of its pixels."""
    drawn = np.array([[50, 30], [200, 35], [240, 120], [150, 170], [60, 140]], float)
    source = ImageObject(1, "shirt", (drawn,))
    obj = MaskObject(1, "shirt", source.raster((H, W)).astype(np.uint8) * 255, source=source)
    canvas = CanvasView()
    qtbot.addWidget(canvas)
    canvas.set_document(Document.with_objects(np.zeros((H, W, 3), np.uint8), "photo.jpg", [obj], ("shirt",)))
    canvas.set_tool("points")
    assert [r.tolist() for r in tool(canvas).rings()] == [drawn.tolist()]
    doc = canvas.document()
    held = source.raster((H, W)).astype(np.float32)
    doc.set_stages([Stage(0, 1, 1.0, held, 0.1, 1, 1, 1)], obj)  # refined, kept as drawn: still its points (a
    doc.set_shown(0)  # tester's bag, one point moved, was traced anew and exported with 5 of its 149 points)
    qtbot.waitUntil(lambda: bool(tool(canvas).rings()))
    assert [r.tolist() for r in tool(canvas).rings()] == [drawn.tolist()]
    moved = held.copy()
    moved[100:110, 230:250] = 1.0  # refined past its edge: the points are the refined shape's
    doc.set_stages([Stage(0, 1, 1.0, moved, 0.1, 1, 1, 1)], obj)
    qtbot.waitUntil(lambda: bool(tool(canvas).rings()))
    assert len(corners(canvas)) > len(drawn) and max(p[0] for p in corners(canvas)) == 249


def test_a_label_with_a_point_moved_is_still_refined_as_a_drawn_polygon(view, qtbot):
    """An annotator moved a belt's point and Refine took the move back: the edited polygon was refined as a pixel
    mask, no longer held as a label (``MaskObject.drawn``). A brush stroke makes it a pixel mask; a guess never is
    one."""
    doc = view.document()
    source = ImageObject(1, "shirt", (SQUARE,))
    doc.current.source = source
    assert doc.current.drawn and doc.current.as_filed
    drag(view, qtbot, (239, 40), (270, 10))
    assert doc.current.drawn and not doc.current.as_filed
    doc.apply_edit(QRect(10, 10, 4, 4), np.full((4, 4), 255, np.uint8), "Brush")
    assert not doc.current.drawn
    doc.undo_stack.undo()
    assert doc.current.drawn
    doc.current.guessed = True
    assert not doc.current.drawn


def test_a_move_on_a_guessed_mask_stays_in_later_refines(view, qtbot):
    """Like a polygon added to a Select Subject mask: what the move adds is kept as foreground."""
    doc = view.document()
    doc.current.guessed = True
    drag(view, qtbot, (239, 159), (290, 195))
    keep = doc.current.keep
    assert keep is not None and (keep == KEEP_FG).sum() > 500
    assert not (keep[:160, :240] == KEEP_FG).any()  # only what the move added


def test_a_hole_is_a_ring_of_its_own_and_its_points_move_its_edge(view, qtbot):
    """No cut line through the object (a polygon export's way of writing a hole): the hole's own points."""
    doc = view.document()
    doc.set_mask(np.where(fill_polygons((SQUARE,), (H, W)), np.uint8(255), np.uint8(0)))
    doc.current.mask[80:120, 120:180] = 0
    doc.current.mask[0, 0] = 255  # the outline is traced again after an edit made elsewhere
    doc.apply_edit(doc.rect(), doc.mask.copy())
    qtbot.waitUntil(lambda: len(tool(view).rings()) == 2)
    hole = next(ring for ring in tool(view).rings() if ring[:, 0].min() > 100)
    top_left = tuple(hole[np.argmin(hole.sum(1))])
    before = doc.mask.copy()
    drag(view, qtbot, top_left, (top_left[0] - 20, top_left[1] - 20))
    grown = (doc.mask < 128) & (before > 127)
    assert grown[60:80, 100:120].sum() > 100 and not grown[:, 200:].any()


def test_a_point_dragged_off_the_photo_stays_on_its_edge(view, qtbot):
    drag(view, qtbot, (239, 40), (320, -30))
    assert (W - 1, 0) in corners(view)


def test_a_trace_asked_for_while_an_edit_lands_does_not_replace_the_points_placed(view, qtbot, monkeypatch):
    """A paint while the edit was told about asked for a trace of the new mask, whose points, simplified anew, came
    back over the ones placed: a removed point reappeared (a re-tester). Here such a trace gives a triangle."""
    doc = view.document()
    triangle = [np.array([[0, 0], [9, 0], [9, 9]], float)]
    monkeypatch.setattr("app.canvas.outline_tool.traced_outline", lambda mask: triangle)
    doc.maskChanged.connect(lambda _region: tool(view).rings())  # as a paint in between would
    drag(view, qtbot, (239, 40), (270, 10))
    qtbot.wait(300)  # the trace, if one ran, has come back
    assert (270, 10) in corners(view) and len(tool(view).rings()[0]) == 4


def test_moved_points_leave_the_mask_exactly_the_fill_of_the_points_as_placed():
    """A point moved near a neighbour 8 px off left one pixel that the polygon's fill does not hold (the window's
    fill was clipped at its edge, and OpenCV rounds a clipped side otherwise), so the points were no longer the
    object's polygon and its export traced it again (an annotator). Here 60 random moves of a wobbly 48-gon that
    runs off the photo on one side."""
    from app.canvas.outline_tool import outline_patch
    rng = np.random.default_rng(7)
    h, w = 240, 320
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    radius = 90 + rng.uniform(-12, 12, angles.size)
    ring = np.stack([150 + 1.6 * radius * np.cos(angles), 120 + radius * np.sin(angles)], axis=1).round(2)
    mask = np.where(fill_polygons((ring,), (h, w)), np.uint8(255), np.uint8(0))
    for _ in range(60):
        k = int(rng.integers(len(ring)))
        moved = ring.copy()
        moved[k] = np.clip(ring[k] + rng.uniform(-9, 9, 2), 0, (w - 1, h - 1))
        span = np.array([ring[k - 1], ring[k], moved[k], ring[(k + 1) % len(ring)]])
        change = outline_patch(mask, [ring], 0, moved, span, fill_polygons)
        if change is not None:
            region, patch, _ = change
            mask[region.top():region.bottom() + 1, region.left():region.right() + 1] = patch
        ring = moved
        assert np.array_equal(mask > 127, fill_polygons((ring,), (h, w)))


def test_a_point_moved_over_a_locked_object_leaves_an_outline_that_follows_the_mask(view, qtbot):
    """A re-tester moved a point over a locked vest: the vest kept its pixels, but the outline was drawn (and
    kept to export) as placed, through the vest. The outline follows what the object holds."""
    doc = view.document()
    square = doc.current
    vest = np.zeros((H, W), np.uint8)
    vest[0:40, 230:300] = 255
    doc.set_locked(doc.add_object("vest", vest), True)
    doc.select(square)
    qtbot.waitUntil(lambda: corners(view) == {tuple(p) for p in SQUARE})
    drag(view, qtbot, (239, 40), (270, 10))
    assert not (doc.current.mask[0:40, 230:300] > 127).any()  # the vest kept its pixels
    assert doc.current.outlines == ()  # no outline kept to export through the vest
    qtbot.waitUntil(lambda: bool(tool(view).rings()))
    points = np.concatenate(tool(view).rings())
    assert not ((points[:, 0] > 231) & (points[:, 1] < 38)).any()
