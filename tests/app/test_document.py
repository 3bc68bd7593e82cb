"""Document: opening files, undoable mask edits that store only changed tiles, the undo byte budget, stages."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QRect

from app.document import Document
from crm_core.errors import CRMError, InputError
from crm_core.options import Stage


def photo(h: int = 200, w: int = 300) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def disc_mask(h: int = 200, w: int = 300) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    cv2.circle(mask, (w // 2, h // 2), min(h, w) // 3, 255, -1)
    return mask


def stage(prob: np.ndarray, index: int = 0) -> Stage:
    return Stage(index, 2, 0.5, prob.astype(np.float32), 0.1, prob.size, prob.size, prob.size)


@pytest.fixture
def files(tmp_path):
    image, mask = photo(), disc_mask()
    cv2.imwrite(str(tmp_path / "cat.png"), image[:, :, ::-1])
    cv2.imwrite(str(tmp_path / "cat_seg.png"), mask)
    cv2.imwrite(str(tmp_path / "half.png"), mask[::2, ::2])
    return tmp_path, image, mask


def test_open_reads_photo_and_mask(qapp, files):
    folder, image, mask = files
    doc = Document.open(folder / "cat.png", folder / "cat_seg.png")
    assert np.array_equal(doc.image, image)
    assert np.array_equal(doc.mask, mask)
    assert doc.path == folder / "cat.png" and doc.mask_path == folder / "cat_seg.png"
    assert not doc.modified and doc.shown == "coarse" and doc.stages == []
    assert Document.open(folder / "cat.png").mask.max() == 0


def test_open_errors_are_one_line_crm_errors_and_load_keeps_the_document(qapp, files):
    folder, _, _ = files
    with pytest.raises(CRMError, match="does not exist"):
        Document.open(folder / "missing.jpg")
    with pytest.raises(InputError, match="150x100"):
        Document.open(folder / "cat.png", folder / "half.png")
    doc = Document.open(folder / "cat.png", folder / "cat_seg.png")
    before = doc.mask.copy()
    with pytest.raises(CRMError):
        doc.load(folder / "missing.jpg")
    assert np.array_equal(doc.mask, before) and doc.path == folder / "cat.png"


def test_load_replaces_content_and_tells_the_views(qtbot, files):
    folder, _, mask = files
    doc = Document(photo(64, 64))
    with qtbot.waitSignals([doc.imageChanged, doc.maskChanged, doc.stagesChanged]):
        doc.load(folder / "cat.png", folder / "cat_seg.png")
    assert doc.mask.shape == (200, 300) and np.array_equal(doc.mask, mask)


def test_import_mask_needs_resize_for_another_size_and_is_undoable(qapp, files):
    folder, image, mask = files
    doc = Document(image)
    with pytest.raises(InputError, match=r"let crm-refine resize it \(--resize-mask\)"):
        doc.import_mask(folder / "half.png")
    doc.import_mask(folder / "half.png", resize=True)
    assert doc.mask.shape == mask.shape and (doc.mask > 127).mean() == pytest.approx((mask > 127).mean(), abs=0.01)
    doc.undo_stack.undo()
    assert doc.mask.max() == 0


def test_importing_the_mask_the_object_has_keeps_a_guess_a_guess(qapp, tmp_path):
    """An inspector imported the very mask Select Subject had made: nothing changed on screen, yet the object
    silently became a label, and the next refine held it (a stray 5,000 px away came in with it)."""
    doc = Document(photo(), disc_mask())
    doc.current.guessed = True
    Image.fromarray(doc.mask).save(tmp_path / "same.png")
    notes = doc.import_mask(tmp_path / "same.png")
    assert doc.current.guessed and any("the mask the object has already" in n for n in notes)
    other = doc.mask.copy()
    other[:10] = 255
    Image.fromarray(other).save(tmp_path / "other.png")
    doc.import_mask(tmp_path / "other.png")
    assert not doc.current.guessed  # a mask from a file may be a careful label


def test_edit_undo_redo_restores_exactly(qtbot):
    doc = Document(photo(), disc_mask())
    original = doc.mask.copy()
    patch = np.full((30, 40), 255, np.uint8)
    with qtbot.waitSignal(doc.maskChanged) as changed:
        doc.apply_edit(QRect(250, 10, 40, 30), patch, "Brush")
    assert changed.args[0] == QRect(250, 10, 40, 30)
    edited = doc.mask.copy()
    assert edited[10:40, 250:290].min() == 255 and doc.modified
    doc.undo_stack.undo()
    assert np.array_equal(doc.mask, original) and not doc.modified
    doc.undo_stack.redo()
    assert np.array_equal(doc.mask, edited)


def test_a_stroke_is_one_undo_step(qapp):
    doc = Document(photo(), disc_mask())
    original = doc.mask.copy()
    doc.begin_stroke("Brush")
    for x in range(0, 280, 20):
        doc.apply_edit(QRect(x, 5, 20, 10), np.full((10, 20), 255, np.uint8))
    doc.end_stroke()
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Brush"
    doc.undo_stack.undo()
    assert np.array_equal(doc.mask, original)


def test_small_edit_stores_only_changed_tiles(qapp):
    doc = Document(photo(768, 1024), disc_mask(768, 1024))
    doc.apply_edit(QRect(600, 100, 12, 12), np.full((12, 12), 255, np.uint8))
    stored = doc.undo_stack.nbytes()
    assert 0 < stored < doc.mask.nbytes / 100
    doc.invert_mask()
    assert doc.undo_stack.nbytes() - stored < doc.mask.nbytes / 10


def test_budget_drops_the_oldest_edits_and_keeps_undo_exact(qapp):
    rng = np.random.default_rng(1)
    doc = Document(photo(768, 768), disc_mask(768, 768))
    states = [doc.mask.copy()]
    for i in range(6):
        noise = rng.integers(0, 256, (50, 50), dtype=np.uint8)  # incompressible: ~5 KB per command
        doc.apply_edit(QRect((i % 3) * 256, (i // 3) * 256, 50, 50), noise, f"edit {i}")
        states.append(doc.mask.copy())
    sizes = [doc.undo_stack.command(i).delta.nbytes for i in range(6)]
    doc.undo_stack.set_budget(sum(sizes[3:]) + min(sizes) // 2)
    assert doc.undo_stack.count() == 3 and doc.undo_stack.nbytes() <= doc.undo_stack.budget()
    assert doc.undo_stack.undoText() == "edit 5"
    doc.apply_edit(QRect(0, 600, 50, 50), rng.integers(0, 256, (50, 50), dtype=np.uint8), "edit 6")
    states.append(doc.mask.copy())
    assert doc.undo_stack.count() == 3
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert np.array_equal(doc.mask, states[4])
    assert doc.modified  # the opened state is no longer reachable
    while doc.undo_stack.canRedo():
        doc.undo_stack.redo()
    assert np.array_equal(doc.mask, states[-1])


def test_clear_and_invert_are_undoable(qapp):
    doc = Document(photo(), disc_mask())
    original = doc.mask.copy()
    doc.invert_mask()
    assert np.array_equal(doc.mask, 255 - original)
    doc.clear_mask()
    assert doc.mask.max() == 0
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert np.array_equal(doc.mask, original)


def test_clear_mask_takes_the_keep_fg_strokes_with_it_in_one_undo_step(qapp):
    """A photo editor cleared a clicked bear's mask (Ctrl+D) to start again with a Box: the circles the clicks had
    kept stayed hatched, and the Box's mask took them in. Keep BG and Refine edge strokes stay."""
    from app.mask_object import KEEP_BG, KEEP_FG
    doc = Document(photo(), disc_mask())
    layer = np.zeros(doc.mask.shape, np.uint8)
    layer[80:120, 100:140] = KEEP_FG
    layer[10:20, 10:20] = KEEP_BG
    doc.set_keep(layer, "Keep strokes")
    doc.clear_mask()
    assert doc.mask.max() == 0 and not (doc.current.keep == KEEP_FG).any()
    assert (doc.current.keep[10:20, 10:20] == KEEP_BG).all()
    doc.undo_stack.undo()  # one step: the mask and its strokes back
    assert np.array_equal(doc.current.keep, layer) and doc.mask.any()


def test_what_an_addition_to_a_guess_keeps_in_stays_well_inside_its_edge(qapp):
    """A photo editor's clicks on a teddy bear kept their regions in to 0.5 % of the mean side from their edge, in
    the fur round it, which the refine then cut in hard steps and stripes: the core keeps 2 % inside (a small piece
    still its middle)."""
    from app.mask_object import KEEP_FG
    from crm_core.frame import frame_mean
    doc = Document(photo(400, 600), np.zeros((400, 600), np.uint8))
    added = np.zeros((400, 600), bool)
    added[100:300, 150:450] = True  # 200 × 300 px the click added
    doc.set_mask(added.astype(np.uint8) * 255, "Click add")
    assert doc.keep_in(added)
    core = doc.current.keep == KEEP_FG
    inside = cv2.distanceTransform(added.astype(np.uint8), cv2.DIST_L2, 5)
    assert core.any() and inside[core].min() >= 0.02 * frame_mean(400, 600) - 1


def test_accept_stage_makes_it_the_coarse_mask(qtbot):
    doc = Document(photo(), disc_mask())
    original = doc.mask.copy()
    prob = np.zeros((200, 300), np.float32)
    prob[50:150, 60:200] = 0.7
    prob[60:70, 60:70] = 0.4
    doc.set_stages([stage(np.zeros_like(prob)), stage(prob, 1)])
    with qtbot.waitSignal(doc.shownChanged):
        doc.set_shown(1)
    doc.accept_stage(1)
    assert np.array_equal(doc.mask, np.rint(prob * 255))  # soft as shown: a 0.4 notch stays faint, not a hole
    assert doc.shown == "coarse"
    doc.undo_stack.undo()
    assert np.array_equal(doc.mask, original)
    with pytest.raises(ValueError):
        doc.set_shown(2)
    doc.set_shown(1)
    doc.set_stages([])
    assert doc.shown == "coarse"


def test_coarse_prob_is_what_the_refiner_takes(qapp):
    doc = Document(photo(), disc_mask())
    prob = doc.coarse_prob()
    assert prob.dtype == np.float32 and prob.shape == (200, 300)
    assert prob.min() == 0.0 and prob.max() == 1.0


def _covered(rects: list[QRect], changed: np.ndarray) -> bool:
    """Every changed pixel lies in one of the rects the document announced."""
    seen = np.zeros_like(changed)
    for r in rects:
        seen[r.top():r.bottom() + 1, r.left():r.right() + 1] = True
    return bool(changed.any()) and bool(seen[changed].all())


def test_every_mask_change_and_its_undo_redo_tell_the_views_where(qtbot, files):
    """Views redraw only what maskChanged names: invert, clear, import, accept, undo and redo must all name it."""
    folder, image, mask = files
    doc = Document(image, mask)
    prob = np.zeros(mask.shape, np.float32)
    prob[20:120, 30:280] = 0.8
    doc.set_stages([stage(prob)])
    other = np.zeros_like(mask)
    other[100:190, 10:290] = 255
    cv2.imwrite(str(folder / "other.png"), other)
    steps = [("invert", doc.invert_mask), ("clear", doc.clear_mask),
             ("import", lambda: doc.import_mask(folder / "other.png")), ("accept", lambda: doc.accept_stage(0))]
    for name, action in steps:
        for label, call in ((name, action), (f"undo {name}", doc.undo_stack.undo), (f"redo {name}", doc.undo_stack.redo)):
            before = doc.mask.copy()
            announced: list[QRect] = []
            doc.maskChanged.connect(announced.append)
            call()
            doc.maskChanged.disconnect(announced.append)
            assert _covered(announced, doc.mask != before), label


@pytest.mark.parametrize("x, y, w, h", [
    (100, 100, 1, 1),  # one pixel
    (255, 40, 1, 1),  # one pixel, the last column of an undo tile
    (256, 40, 1, 1),  # one pixel, the first column of the next
    (250, 40, 7, 3),  # ends on the first column of the next tile
    (40, 250, 3, 7),  # ends on the first row of the next tile
    (250, 250, 7, 7),  # ends on the first pixel of the diagonal tile
])
def test_small_edits_and_edits_ending_on_a_tile_edge_undo_and_redo_exactly(qapp, x, y, w, h):
    doc = Document(photo(400, 400), np.zeros((400, 400), np.uint8))
    original = doc.mask.copy()
    doc.apply_edit(QRect(x, y, w, h), np.full((h, w), 255, np.uint8), "Brush")
    edited = doc.mask.copy()
    assert edited.sum() == 255 * w * h
    doc.undo_stack.undo()
    assert np.array_equal(doc.mask, original)
    doc.undo_stack.redo()
    assert np.array_equal(doc.mask, edited)


def test_a_box_kept_before_its_refine_ends_still_joins_it_in_one_undo_step(qtbot):
    """A folder photo's work is kept (marked saved) a second after each change: kept between the Box and the end
    of the refine it started, the refine came as a step of its own, and one Ctrl+Z left the Box's mask."""
    doc = Document(photo(), np.zeros((200, 300), np.uint8))
    box = np.zeros((200, 300), np.uint8)
    box[50:150, 60:200] = 255
    doc.apply_edit(doc.rect(), box, "Box")
    started_by = doc.undo_stack.last()
    doc.mark_saved()  # kept while the refine runs
    before = doc.results_of(doc.current)
    prob = np.zeros((200, 300), np.float32)
    prob[55:145, 65:195] = 1.0
    doc.set_stages([stage(prob)])
    doc.record_refine([(doc.current, before)], joins=started_by)
    assert doc.undo_stack.undoText() == "Box and refine" and doc.modified  # kept without the refine: changed
    doc.undo_stack.undo()
    assert not doc.mask.any() and not doc.stages


def test_a_photo_with_transparency_opens_with_its_alpha_as_the_coarse_mask(qapp, tmp_path):
    """A PNG cut out by another tool opened fully opaque, and its cutout brought back what was transparent."""
    image, mask = photo(), disc_mask()
    cv2.imwrite(str(tmp_path / "cut.png"), np.dstack([image[:, :, ::-1], mask]))
    doc = Document.open(tmp_path / "cut.png")
    assert np.array_equal(doc.image, image) and np.array_equal(doc.mask, mask) and not doc.modified
    square = np.zeros_like(mask)
    square[20:80, 30:90] = 255
    cv2.imwrite(str(tmp_path / "square.png"), square)
    assert np.array_equal(Document.open(tmp_path / "cut.png", tmp_path / "square.png").mask, square)  # a mask wins


def test_a_click_that_adds_back_most_of_a_kept_out_part_frees_all_of_it_and_a_little_only_that(qapp):
    """A re-tester erased a stem and clicked it back: hatched slivers of the kept-out stem stayed along its edges,
    kept out of every later refine."""
    from app.mask_object import KEEP_BG
    mask = np.zeros((120, 160), np.uint8)
    mask[20:100, 20:140] = 255
    doc = Document(np.full((120, 160, 3), 128, np.uint8), mask)

    def remove(rows: slice, cols: slice) -> np.ndarray:
        new = doc.current.mask.copy()
        new[rows, cols] = 0
        removed = (doc.current.mask > 127) & (new == 0)
        doc.apply_edit(doc.rect(), new, "Click remove", takes=False)  # as a click lands (app.prompting)
        assert doc.keep_out(removed)
        return new

    def add_back(rows: slice, cols: slice) -> None:
        before = doc.current.result().copy()
        new = doc.current.mask.copy()
        new[rows, cols] = 255
        doc.apply_edit(doc.rect(), new, "Click add", takes=False)
        doc.free_added(before, new > 127)

    remove(slice(40, 80), slice(30, 70))
    add_back(slice(42, 78), slice(32, 68))  # most of it, short of its rim
    assert not (doc.current.keep == KEEP_BG).any()
    remove(slice(40, 80), slice(90, 130))
    add_back(slice(40, 50), slice(90, 130))  # a quarter of it: that quarter is freed, the rest stays out
    kept = doc.current.keep == KEEP_BG
    assert not kept[40:50].any() and kept[55:75, 95:125].all()


def test_refines_kept_for_undo_hold_a_fraction_of_their_floats_and_come_back_as_they_were(qtbot):
    """Each Refine's undo step kept the six float stages it replaced: a photo editor's window reached 6.2 GB
    after seven refines of a 6K photo. Steps older than the latest refine now keep 16-bit PNGs."""
    import tracemalloc
    from app.held_results import wait_packed
    h, w = 600, 800
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    doc = Document(photo(h, w), disc_mask(h, w))

    def probs(k: int) -> list[np.ndarray]:  # soft discs, a little larger each time: a refine's stages are soft
        radius = 150 + 10 * k
        return [np.clip((radius + 3 * i - np.hypot(yy - h / 2, xx - w / 2)) / 8 + 0.5, 0, 1) for i in range(3)]

    tracemalloc.start()
    try:
        for k in range(6):
            before = doc.results_of(doc.current)
            doc.set_stages([stage(p, i) for i, p in enumerate(probs(k))])
            doc.record_refine([(doc.current, before)])
            if k == 0:
                wait_packed()
                start = tracemalloc.get_traced_memory()[0]
        wait_packed()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    floats = 3 * h * w * 4  # one refine's stages
    assert grown < 1.6 * floats, f"{grown / floats:.2f} refines' floats"  # all kept as floats: 5 more
    for k in range(4, -1, -1):  # Undo back through every refine: each shows the stages it had, to 1/65535
        doc.undo_stack.undo()
        assert len(doc.stages) == 3
        assert max(np.abs(s.prob - p).max() for s, p in zip(doc.stages, probs(k))) <= 0.5 / 65535 + 1e-7
    for k in range(1, 6):
        doc.undo_stack.redo()
        assert max(np.abs(s.prob - p).max() for s, p in zip(doc.stages, probs(k))) <= 0.5 / 65535 + 1e-7
    # freed as the window frees a document (deleteLater), not left to the garbage collector: a collection that
    # tears down a stack of Python commands and their closures in its own order can crash PySide
    doc.undo_stack.clear()


def test_undo_then_redo_brings_back_the_stage_picked_on_each_side(qapp):
    """A tester clicked Coarse after a refine, pressed Ctrl+Z and Ctrl+Y, and saw the last stage again: the pick was
    lost. Each side of a refine's step comes back showing what it showed when it was left."""
    doc = Document(photo(), disc_mask())
    probs = [np.full((200, 300), v, np.float32) for v in (0.2, 0.6, 0.9)]

    def refine() -> None:
        before = doc.results_of(doc.current)
        doc.set_stages([stage(p, i) for i, p in enumerate(probs)])
        doc.set_shown(2)
        doc.record_refine([(doc.current, before)])

    refine()
    refine()
    doc.set_shown("coarse")  # the second refine's result, looked away from
    doc.undo_stack.undo()
    assert doc.shown == 2  # the first refine, as it was left
    doc.set_shown(0)
    doc.undo_stack.redo()
    assert doc.shown == "coarse"
    doc.undo_stack.undo()
    assert doc.shown == 0
    doc.undo_stack.clear()
