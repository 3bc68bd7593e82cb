"""A photo with several objects: one undo stack over all of them, object list edits, locks, projects."""

from __future__ import annotations

import json
import zipfile

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QRect

from app import project
from app.canvas.view import OTHERS_FADE
from app.document import COARSE, REFINED, Document, MaskObject, label_color
from crm_core.options import Stage


def two_objects(photo_arrays) -> tuple[Document, MaskObject, MaskObject]:
    image, _ = photo_arrays(64, 48)
    left, right = np.zeros((48, 64), np.uint8), np.zeros((48, 64), np.uint8)
    left[10:30, 5:25] = 255
    right[10:30, 35:60] = 255
    shirt, hair = MaskObject(7, "shirt", left), MaskObject("h1", "hair", right)
    return Document.with_objects(image, "photo.jpg", [shirt, hair], ("shirt", "hair", "skin")), shirt, hair


def test_a_single_mask_photo_is_a_document_with_one_object(photo_arrays):
    image, mask = photo_arrays(40, 30)
    doc = Document(image, mask)
    assert len(doc.objects) == 1 and doc.mask is doc.objects[0].mask and np.array_equal(doc.mask, mask)


def test_edits_go_to_the_current_object_and_undo_brings_back_the_object_it_changed(qtbot, photo_arrays):
    doc, shirt, hair = two_objects(photo_arrays)
    doc.apply_edit(QRect(0, 0, 4, 4), np.full((4, 4), 255, np.uint8), "Brush")
    assert shirt.mask[:4, :4].all() and not hair.mask[:4, :4].any()
    doc.select(hair)
    doc.apply_edit(QRect(60, 40, 4, 4), np.full((4, 4), 255, np.uint8), "Brush")
    assert hair.mask[40:44, 60:64].all() and doc.mask is hair.mask
    doc.undo_stack.undo()
    assert not hair.mask[40:44, 60:64].any()
    doc.undo_stack.undo()  # the shirt's edit: the shirt becomes current again, so the person sees it undone
    assert doc.current is shirt and not shirt.mask[:4, :4].any()
    doc.undo_stack.redo()
    assert shirt.mask[:4, :4].all()


def test_add_delete_and_relabel_are_undo_steps(qtbot, photo_arrays):
    doc, shirt, hair = two_objects(photo_arrays)
    new = doc.add_object("skin")
    assert doc.objects == [shirt, hair, new] and doc.current is new and not new.mask.any()
    assert new.id == 8  # after the largest numeric id: ids stay unique
    doc.rename(shirt, "hair")
    assert shirt.label == "hair" and doc.color_of(shirt) == label_color("hair", doc.categories) == doc.color_of(hair)
    assert len({label_color(c, doc.categories) for c in doc.categories}) == 3  # categories never share a colour
    assert doc.delete_object(hair)
    assert doc.objects == [shirt, new]
    doc.undo_stack.undo()
    assert doc.objects == [shirt, hair, new]
    doc.undo_stack.undo()
    assert shirt.label == "shirt"
    doc.undo_stack.undo()
    assert doc.objects == [shirt, hair]
    assert doc.delete_object(shirt) and doc.delete_object(hair)  # the last one too: a false label can go
    assert len(doc.objects) == 1 and doc.current not in (shirt, hair)
    assert doc.current.label == "hair" and not doc.current.mask.any()  # an empty object of its label, to draw in
    doc.undo_stack.undo()
    assert doc.objects == [hair] and doc.current is hair


def test_the_labels_of_a_large_dataset_are_drawn_in_colours_far_apart_as_the_eye_sees_them():
    """Past the palette's twelve, the thirteenth label took the first one's colour (jeans and blouse both green);
    Clothing Co-Parsing's 58 classes then wrapped past 48 colours (belt and t-shirt the same blue) and four of
    its common ones were violets hard to tell apart."""
    import itertools
    import cv2
    categories = tuple(f"class {i}" for i in range(58))
    colors = [label_color(c, categories) for c in categories]
    lab = cv2.cvtColor(np.uint8([colors]), cv2.COLOR_RGB2LAB)[0].astype(float) * (100 / 255, 1, 1)
    apart = [np.linalg.norm(a - b) for a, b in itertools.combinations(lab, 2)]
    assert len(set(colors)) == 58 and min(apart) >= 18  # CIELAB ΔE
    assert min(np.linalg.norm(a - b) for a, b in itertools.combinations(lab[:30], 2)) >= 25


def test_no_label_is_drawn_in_a_skin_tone():
    """Clothing Co-Parsing's "skin" came out tan (178, 152, 98): drawn on skin, the selected label could not be
    seen (a tester), then one muted rose (128, 70, 80). Skin tones: hue 340-50 degrees, saturation 0.2-0.6, not
    dark."""
    import colorsys
    categories = tuple(f"class {i}" for i in range(64))
    hsv = [colorsys.rgb_to_hsv(*(c / 255 for c in label_color(name, categories))) for name in categories]
    assert not [(h, s, v) for h, s, v in hsv if (h <= 50 / 360 or h >= 340 / 360) and 0.2 <= s <= 0.6 and v >= 0.4]


def test_a_locked_object_refuses_edits_with_a_reason(qtbot, photo_arrays):
    doc, shirt, _ = two_objects(photo_arrays)
    doc.set_locked(shirt, True)
    before = shirt.mask.copy()
    with qtbot.waitSignal(doc.refused) as said:
        doc.apply_edit(QRect(0, 0, 4, 4), np.full((4, 4), 255, np.uint8))
    assert "locked" in said.args[0] and np.array_equal(shirt.mask, before) and not doc.modified
    with qtbot.waitSignal(doc.refused) as said:
        assert not doc.delete_object(shirt)
    assert said.args[0] == "shirt is locked; unlock it in the Objects list to delete it"
    assert shirt in doc.objects
    doc.set_locked(shirt, False)
    assert doc.delete_object(shirt)


def test_stages_belong_to_their_object(qtbot, photo_arrays):
    doc, shirt, hair = two_objects(photo_arrays)
    prob = np.zeros((48, 64), np.float32)
    prob[0:20, 40:64] = 0.9
    doc.add_stage(Stage(0, 1, 1.0, prob, 0.1, 0, prob.size, 0), obj=hair)
    doc.set_shown(0, obj=hair)
    assert doc.stages == [] and doc.shown == COARSE and len(hair.stages) == 1
    assert hair.result()[5, 50] and not hair.result()[25, 50]  # the shown stage is what it is now
    doc.set_status(hair, REFINED)
    doc.accept_stage(0, obj=hair)
    assert hair.shown == COARSE and hair.mask[5, 50] == 230  # soft as shown: 0.9 of 255
    doc.undo_stack.undo()  # "Use as mask" undone: the object as it was, not "accepted"
    assert hair.status == REFINED and hair.mask[5, 50] == 0 and hair.stages


def test_a_project_keeps_every_object(qtbot, photo_arrays, tmp_path):
    doc, shirt, hair = two_objects(photo_arrays)
    path = tmp_path / "photo.jpg"
    cv2.imwrite(str(path), doc.image[:, :, ::-1])
    doc.path = path
    doc.select(hair)
    doc.set_locked(shirt, True)
    doc.set_visible(hair, False)
    saved = project.save(tmp_path / "p.crmproj", project.capture(doc))
    again = project.document(project.load(saved))
    assert [(o.id, o.label, o.locked, o.visible) for o in again.objects] == \
        [(7, "shirt", True, True), ("h1", "hair", False, False)]
    assert again.current.label == "hair"
    assert all(np.array_equal(a.mask, b.mask) for a, b in zip(again.objects, doc.objects))


def test_a_reopened_project_wears_the_colours_its_labels_had(qtbot, photo_arrays, tmp_path):
    """A label's colour is its place among the labels known: "subject", met after "object", was yellow while
    worked on and green once its project was reopened with "subject" alone known."""
    from app.document import label_color
    doc, shirt, hair = two_objects(photo_arrays)
    path = tmp_path / "photo.jpg"
    cv2.imwrite(str(path), doc.image[:, :, ::-1])
    doc.path = path
    doc.delete_object(shirt)  # "shirt" stays known, and keeps "hair" at its place
    assert doc.categories.index("hair") == 1
    saved = project.save(tmp_path / "p.crmproj", project.capture(doc))
    again = project.document(project.load(saved))
    assert label_color("hair", again.categories) == label_color("hair", doc.categories)


def test_a_version_1_project_opens_as_one_object(tmp_path, photo_arrays):
    image, mask = photo_arrays(40, 30)
    cv2.imwrite(str(tmp_path / "photo.png"), image[:, :, ::-1])
    meta = {"version": 1, "photo": str(tmp_path / "photo.png"), "mask_path": None, "shown": "coarse",
            "view": {"zoom": 1.0, "center_x": 0.0, "center_y": 0.0, "fitted": True}, "modified": True, "stages": []}
    with zipfile.ZipFile(tmp_path / "old.crmproj", "w") as archive:
        archive.writestr("project.json", json.dumps(meta))
        archive.writestr("mask.png", cv2.imencode(".png", mask)[1].tobytes())
    state = project.load(tmp_path / "old.crmproj")
    assert len(state.objects) == 1 and np.array_equal(state.mask, mask)


def test_a_project_whose_objects_disagree_in_size_is_refused(tmp_path, photo_arrays):
    doc, _, hair = two_objects(photo_arrays)
    cv2.imwrite(str(tmp_path / "photo.jpg"), doc.image[:, :, ::-1])
    doc.path = tmp_path / "photo.jpg"
    state = project.capture(doc)
    broken = project.Project(state.photo, (state.objects[0], project.ObjectState(1, "x", np.zeros((5, 5), np.uint8))))
    project.save(tmp_path / "bad.crmproj", broken)
    with pytest.raises(Exception, match="damaged"):
        project.load(tmp_path / "bad.crmproj")


def test_the_canvas_draws_each_object_in_its_label_colour_the_selected_one_in_full(qtbot, photo_arrays):
    from app.canvas import CanvasView

    doc, shirt, hair = two_objects(photo_arrays)
    doc.image[:] = 128
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(64, 48)
    view.set_document(doc)
    view.set_overlay(view._color, 1.0, False)
    view.fit()

    def colour_at(x: int, y: int) -> tuple[int, int, int]:
        c = view.grab().toImage().pixelColor(x, y)
        return c.red(), c.green(), c.blue()

    def near(got: tuple[int, ...], want: tuple[float, ...]) -> bool:
        return max(abs(a - b) for a, b in zip(got, want)) <= 2

    def faded(rgb) -> list[float]:
        return [OTHERS_FADE * c + (1 - OTHERS_FADE) * 128 for c in rgb]

    chosen = (view._color.red(), view._color.green(), view._color.blue())
    hair_rgb, shirt_rgb = doc.color_of(hair), doc.color_of(shirt)
    assert near(colour_at(15, 20), chosen)  # shirt, selected: the overlay colour the person chose
    assert near(colour_at(47, 20), faded(hair_rgb))  # hair: its label colour, fainter
    assert near(colour_at(35, 20), hair_rgb)  # and its edge opaque, as labelme draws a shape: a fill alone vanished
    doc.set_visible(hair, False)
    assert colour_at(47, 20) == (128, 128, 128)
    doc.set_visible(hair, True)
    doc.set_visible(shirt, False)  # the selected one hides too
    assert colour_at(15, 20) == (128, 128, 128)
    with qtbot.waitSignal(doc.refused) as said:  # and is not painted unseen
        doc.apply_edit(QRect(0, 0, 4, 4), np.full((4, 4), 255, np.uint8))
    assert "hidden" in said.args[0]
    doc.set_visible(shirt, True)
    assert near(colour_at(15, 20), chosen)
    view.set_label_colors(True)  # folder mode: the selected object in its label colour too, as labelme draws it
    assert near(colour_at(15, 20), shirt_rgb)
    doc.select(hair)
    assert near(colour_at(47, 20), hair_rgb)
    assert near(colour_at(15, 20), faded(shirt_rgb))
    doc.rename(hair, "skin")  # a relabel recolours the selected object at once
    assert near(colour_at(47, 20), doc.color_of(hair)) and doc.color_of(hair) != hair_rgb


def test_clicking_an_object_far_down_the_list_selects_it_and_the_list_stays_where_it_was(qtbot):
    """The list is refreshed by the selection its own click makes: rebuilt, it jumped back to the top with the
    row under the pointer (another object) drawn as selected."""
    from PySide6.QtCore import Qt

    from app.folder_docks import ObjectsPanel

    doc = Document(np.zeros((50, 60, 3), np.uint8))
    for k in range(14):
        doc.add_object(f"o{k}")
    panel = ObjectsPanel()
    qtbot.addWidget(panel)
    panel.resize(250, 200)
    panel.set_document(doc)
    panel.show()
    qtbot.waitExposed(panel)
    doc.select(doc.objects[0])
    rows = panel.list
    rows.scrollToBottom()
    bottom = rows.verticalScrollBar().value()
    assert bottom > 0
    qtbot.mouseClick(rows.viewport(), Qt.MouseButton.LeftButton, pos=rows.visualItemRect(rows.item(12)).center())
    assert doc.current is doc.objects[12] and rows.currentRow() == 12
    assert rows.verticalScrollBar().value() == bottom


def test_deleting_an_object_gives_its_neighbours_back_the_pixels_they_drew_under_it(qapp):
    """A tester deleted a hair label after a refine, and the sweater beside it, locked, lost the pixels both had
    drawn, which the refine had given to the hair: re-traced on export, no longer as drawn."""
    from crm_core.options import Stage
    sweater, hair = np.zeros((40, 60), np.uint8), np.zeros((40, 60), np.uint8)
    sweater[10:30, 5:35], hair[5:25, 30:50] = 255, 255  # both drew the columns 30-34 of rows 10-24
    objects = [MaskObject(1, "sweater", sweater.copy(), locked=True), MaskObject(2, "hair", hair.copy())]
    doc = Document.with_objects(np.zeros((40, 60, 3), np.uint8), "p.png", objects)
    decided = {"sweater": (sweater > 0) & (hair == 0), "hair": hair > 0}  # the refine gave the overlap to the hair
    for obj in objects:
        doc.set_stages([Stage(0, 1, 1.0, decided[obj.label].astype(np.float32), 0.1, 1, 1, 1)], obj)
        doc.set_shown(0, obj)
    refined = objects[0].stages[0]
    assert doc.delete_object(objects[1])
    assert np.array_equal(objects[0].result(), sweater > 0)  # as drawn again
    assert refined.prob[10:25, 30:35].max() == 0  # a new stage: the refined one is never changed in place
    doc.undo_stack.undo()
    assert objects[0].stages[0] is refined and np.array_equal(objects[0].result(), decided["sweater"])


def test_several_objects_deleted_at_once_are_one_undo_step_and_give_back_what_each_held(qapp):
    """An annotator deleted two false labels at once, as labelme does: one undo step, and each neighbour left gets
    back what it drew under either (a bag and a strap over one locked coat, the refine having given the overlaps
    to them); all three deleted leave an empty object to draw in."""
    from crm_core.options import Stage
    coat, bag, strap = (np.zeros((40, 60), np.uint8) for _ in range(3))
    coat[5:35, 5:55], bag[10:20, 40:58], strap[25:30, 0:30] = 255, 255, 255
    objects = [MaskObject(1, "coat", coat.copy(), locked=True), MaskObject(2, "bag", bag.copy()),
               MaskObject(3, "strap", strap.copy())]
    doc = Document.with_objects(np.zeros((40, 60, 3), np.uint8), "p.png", objects)
    decided = {"coat": (coat > 0) & (bag == 0) & (strap == 0), "bag": bag > 0, "strap": strap > 0}
    for obj in objects:
        doc.set_stages([Stage(0, 1, 1.0, decided[obj.label].astype(np.float32), 0.1, 1, 1, 1)], obj)
        doc.set_shown(0, obj)
    steps = doc.undo_stack.count()
    assert doc.delete_objects(objects[1:]) == 2
    assert doc.objects == objects[:1] and doc.undo_stack.count() == steps + 1
    assert np.array_equal(objects[0].result(), coat > 0)  # as drawn again, under both
    assert doc.undo_stack.undoText() == "Delete 2 objects"
    doc.undo_stack.undo()
    assert doc.objects == objects and np.array_equal(objects[0].result(), decided["coat"])
    assert doc.delete_objects(objects) == 2 and doc.objects == objects[:1]  # the locked coat stays
    doc.set_locked(objects[0], False)
    doc.undo_stack.undo()
    assert doc.delete_objects(objects) == 3 and len(doc.objects) == 1 and doc.current not in objects
    assert not doc.current.mask.any()  # an empty object to draw in, as after the last one deleted alone
    doc.undo_stack.undo()
    assert doc.objects == objects


def test_what_a_brush_paints_over_another_object_is_taken_from_it_in_the_same_undo_step(qtbot, photo_arrays):
    """An annotator's brushed hair over the skin (201 px) was both objects in the COCO export and the skin alone in
    the VOC one: a pixel is one object's, and the one painted last holds it."""
    doc, shirt, hair = two_objects(photo_arrays)
    doc.select(hair)
    doc.begin_stroke("Brush")
    doc.apply_edit(QRect(20, 12, 20, 6), np.full((6, 20), 255, np.uint8), "Brush")  # over the shirt's columns 20-24
    with qtbot.waitSignal(doc.noted) as said:
        doc.end_stroke()
    assert said.args[0] == "Took the pixels you added from shirt: a pixel is one object's (Ctrl+Z undoes)"
    assert hair.result()[12:18, 20:40].all() and not shirt.result()[12:18, 20:25].any()
    assert shirt.result()[10:12, 20:25].all() and shirt.result()[12:18, 5:20].all()  # the rest stays the shirt's
    assert not (shirt.result() & hair.result()).any()
    doc.undo_stack.undo()  # one step gives both back
    assert shirt.result()[10:30, 5:25].all() and not hair.result()[12:18, 20:35].any()
    doc.undo_stack.redo()
    assert not (shirt.result() & hair.result()).any() and hair.result()[12:18, 20:40].all()


def test_a_refined_neighbour_painted_over_loses_the_pixels_from_the_result_it_shows(qtbot, photo_arrays):
    doc, shirt, hair = two_objects(photo_arrays)
    refined = np.zeros((48, 64), np.float32)
    refined[8:32, 3:27] = 0.9  # the refine grew the shirt by 2 px
    doc.set_stages([Stage(0, 1, 1.0, refined, 0.1, 0, refined.size, 0)], shirt)
    doc.set_shown(0, shirt)
    doc.select(hair)
    with qtbot.waitSignal(doc.noted) as said:
        doc.apply_edit(QRect(0, 0, 64, 12), np.full((12, 64), 255, np.uint8), "Polygon add")
    assert said.args[0] == "Took the pixels you added from shirt: a pixel is one object's (Ctrl+Z undoes)"
    # still refined, less what the polygon took, and so is its coarse mask: refined again with the hair, the two
    # would otherwise read as drawn overlapping and stay so
    assert shirt.shown == 0 and not shirt.stale and not shirt.result()[:12].any() and not shirt.mask[:12].any()
    assert shirt.result()[12:32, 3:27].all() and shirt.stages[0].prob[12, 3] == np.float32(0.9)
    assert shirt.mask[12:30, 5:25].all()
    assert refined[8, 3] == np.float32(0.9)  # a new stage: the refined one is never changed in place
    doc.undo_stack.undo()
    assert shirt.shown == 0 and shirt.result()[8:12, 3:27].all() and shirt.stages[0].prob[8, 3] == np.float32(0.9)
    assert shirt.mask[10:12, 5:25].all()
    doc.undo_stack.redo()
    assert not shirt.result()[:12].any() and not (shirt.result() & hair.result()).any()


def test_what_paint_took_is_said_last_when_the_painted_object_showed_its_result(qtbot, photo_arrays):
    """A re-tester's first lasso on a refined blouse over the leggings said only "Edited the shown stage result…":
    the note of what it took had come first, and was replaced at once."""
    doc, shirt, hair = two_objects(photo_arrays)
    prob = (hair.mask > 127).astype(np.float32)
    doc.set_stages([Stage(0, 1, 1.0, prob, 0.1, 0, prob.size, 0)], hair)
    doc.set_shown(0, hair)
    doc.select(hair)
    notes = []
    doc.noted.connect(notes.append)
    doc.apply_edit(QRect(20, 12, 20, 6), np.full((6, 20), 255, np.uint8), "Lasso add")
    assert notes[0].startswith("Edited the shown stage")
    assert notes[-1].startswith("Took the pixels you added from shirt")
    doc.set_locked(shirt, True)
    notes.clear()
    doc.undo_stack.undo()
    doc.set_shown(0, hair)
    doc.apply_edit(QRect(20, 12, 5, 6), np.full((6, 5), 255, np.uint8), "Lasso add")  # only over the locked shirt
    assert notes == ["shirt is locked and kept its pixels: a pixel is one object's (Ctrl+Z undoes)"]


def test_objects_drawn_overlapping_and_locked_ones_keep_their_pixels_under_paint(qtbot, photo_arrays):
    image, _ = photo_arrays(64, 48)
    coat, bag, belt = (np.zeros((48, 64), np.uint8) for _ in range(3))
    coat[5:45, 5:60], bag[20:40, 20:40], belt[44:48, 0:64] = 255, 255, 255  # the bag drawn over the coat
    objects = [MaskObject(1, "coat", coat), MaskObject(2, "bag", bag), MaskObject(3, "belt", belt, locked=True)]
    doc = Document.with_objects(image, "photo.jpg", objects)
    doc.select(objects[1])
    with qtbot.waitSignal(doc.noted) as said:
        doc.apply_edit(QRect(18, 18, 30, 30), np.full((30, 30), 255, np.uint8), "Brush")
    assert objects[0].result()[18:45, 18:48].all()  # overlapped on purpose before: still shared
    # a locked one keeps its pixels, and the paint is cut back from them: no overlap that VOC gives the bag
    assert objects[2].result()[44:48, 18:48].all() and not objects[1].result()[44:48].any()
    assert objects[1].result()[18:44, 18:48].all()
    assert said.args[0] == "belt is locked and kept its pixels: a pixel is one object's (Ctrl+Z undoes)"
    doc.undo_stack.undo()
    assert not objects[1].result()[40:44, 40:48].any() and objects[2].result()[44:48].all()


def test_paint_takes_from_the_result_the_neighbour_left_showing_and_from_a_hidden_one_said(qtbot, photo_arrays):
    """An annotator looked at the hair's coarse mask, brushed the skin over a strand, and clicked the hair's
    result again: the strand was both objects' once more."""
    doc, shirt, hair = two_objects(photo_arrays)
    refined = (shirt.mask > 127).astype(np.float32)
    doc.set_stages([Stage(0, 1, 1.0, refined, 0.1, 0, refined.size, 0)], shirt)  # shown: coarse
    doc.set_visible(shirt, False)
    doc.select(hair)
    with qtbot.waitSignal(doc.noted) as said:
        doc.apply_edit(QRect(0, 15, 64, 4), np.full((4, 64), 255, np.uint8), "Brush")
    assert said.args[0] == "Took the pixels you added from shirt (hidden): a pixel is one object's (Ctrl+Z undoes)"
    doc.set_shown(0, shirt)
    assert not (shirt.result() & hair.result()).any() and shirt.result()[10:15, 5:25].all()
    doc.undo_stack.undo()
    assert shirt.result()[15:19, 5:25].all() and np.array_equal(shirt.stages[0].prob, refined)

