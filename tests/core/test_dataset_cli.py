"""crm-refine --coco/--labelme/--voc/--yolo and crm-eval on datasets, as an annotator meets them."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from crm_core.cli import eval as crm_eval
from crm_core.cli import refine as crm_refine
from crm_core.formats import open_dataset, trace_polygons
from crm_core.formats.base import UNFINISHED_FILE
from crm_core.formats.labelmap import read_labels, write_labels

H, W = 96, 128


def scene(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A photo with two touching objects (a blue square, a red bar to its right) and its label map (1, 2)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((H, W), np.uint8)
    labels[20:70, 20:60] = 1
    labels[20:70, 60:90] = 2
    colours = np.array([[200, 200, 190], [40, 60, 200], [210, 50, 40]], np.float32)
    image = colours[labels] + rng.normal(0, 5, (H, W, 3))
    return np.clip(image, 0, 255).astype(np.uint8), labels


def make_sets(root: Path, names=("a", "b")) -> dict[str, Path]:
    """The same photos as a VOC folder (GT), a COCO file, a LabelMe folder and a YOLO folder."""
    voc, lm, yolo = root / "voc", root / "lm", root / "yolo"
    coco = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "square"}, {"id": 2, "name": "bar"}]}
    (lm).mkdir(parents=True)
    (yolo / "labels").mkdir(parents=True)
    (yolo / "classes.txt").write_text("square\nbar\n")
    (voc / "labels.txt").parent.mkdir(parents=True, exist_ok=True)
    (voc / "labels.txt").write_text("background\nsquare\nbar\n")
    for i, name in enumerate(names):
        image, labels = scene(i)
        for folder in (voc / "JPEGImages", yolo / "images"):
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{name}.jpg", quality=95)
        write_labels(voc / "SegmentationClass" / f"{name}.png", labels, None)
        coco["images"].append({"id": i + 1, "file_name": f"{name}.jpg", "width": W, "height": H})
        shapes, lines = [], []
        for value, label in ((1, "square"), (2, "bar")):
            (poly,) = trace_polygons(labels == value, 1.0)
            poly = poly + np.array([3.0, -2.0])  # a coarse label: shifted off the edges
            coco["annotations"].append({"id": 10 * i + value, "image_id": i + 1, "category_id": value,
                                        "segmentation": [poly.reshape(-1).tolist()], "iscrowd": 0})
            shapes.append({"label": label, "points": poly.tolist(), "group_id": None, "shape_type": "polygon", "flags": {}})
            lines.append(" ".join([str(value - 1), *(f"{v:.5f}" for v in (poly / (W, H)).reshape(-1))]))
        (lm / f"{name}.json").write_text(json.dumps({"version": "5.0", "flags": {}, "shapes": shapes, "imageData": None,
                                                     "imagePath": f"../voc/JPEGImages/{name}.jpg", "imageHeight": H, "imageWidth": W}))
        (yolo / "labels" / f"{name}.txt").write_text("\n".join(lines) + "\n")
    (root / "coco.json").write_text(json.dumps(coco))
    return {"voc": voc, "coco": root / "coco.json", "labelme": lm, "yolo": yolo}


def run(main, argv: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("kind", ["coco", "labelme", "voc", "yolo"])
def test_refine_a_dataset_writes_the_same_format_and_leaves_the_input(kind, tmp_path, random_refiner, capsys) -> None:
    sets = make_sets(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    out = tmp_path / ("out.json" if kind == "coco" else "out")
    extra = ["--images", sets["voc"] / "JPEGImages"] if kind == "coco" else []
    code, _, err = run(crm_refine.main, [f"--{kind}", sets[kind], *extra, "-o", out, "--no-matte"], capsys)
    assert code == 0, err
    assert "2 images, 4 objects: 4 refined, 0 not refined" in err
    assert all(p.read_bytes() == data for p, data in before.items())  # inputs untouched
    images = {"coco": sets["voc"] / "JPEGImages", "voc": sets["voc"] / "JPEGImages", "yolo": sets["yolo"] / "images"}
    written = open_dataset(kind, out, images.get(kind))
    item = written.read(written.names()[0])
    assert {o.label for o in item.objects} == {"bar", "square"}  # YOLO writes an object in pieces as several lines
    square, bar = (np.any([o.raster(item.hw) for o in item.objects if o.label == label], axis=0) for label in ("square", "bar"))
    overlap = np.count_nonzero(square & bar)
    # touching objects do not overlap: exactly in a label map, within the 1 px polygon tolerance along the
    # 50 px shared edge in polygon formats
    assert overlap == 0 if kind == "voc" else overlap <= 50


def test_a_coco_crowd_region_is_kept_as_the_file_has_it(tmp_path, random_refiner, capsys) -> None:
    """A crowd region (iscrowd 1, uncompressed RLE) was refined like an object: its RLE came back compressed and
    up to 15 IoU points off, where COCO's own evaluation ignores such regions."""
    from pycocotools import mask as rle_codec
    sets = make_sets(tmp_path)
    coco = json.loads(sets["coco"].read_text())
    crowd = coco["annotations"][0]
    pixels = rle_codec.decode(rle_codec.merge(rle_codec.frPyObjects(crowd["segmentation"], H, W)))
    flat = pixels.flatten(order="F")
    runs, last, count = [], 0, 0
    for v in flat:  # COCO's uncompressed RLE of a crowd: run lengths, starting with background
        if v != last:
            runs.append(count)
            last, count = v, 0
        count += 1
    runs.append(count)
    crowd.update(iscrowd=1, segmentation={"size": [H, W], "counts": runs}, area=int(pixels.sum()),
                 bbox=[float(v) for v in rle_codec.toBbox(rle_codec.encode(np.asfortranarray(pixels)))])
    sets["coco"].write_text(json.dumps(coco))
    out = tmp_path / "out.json"
    code, _, err = run(crm_refine.main, ["--coco", sets["coco"], "--images", sets["voc"] / "JPEGImages", "-o", out,
                                         "--no-matte"], capsys)
    assert code == 0, err
    assert "4 objects: 3 refined, 1 not refined" in err
    written = {a["id"]: a for a in json.loads(out.read_text())["annotations"]}
    assert written[crowd["id"]]["segmentation"] == crowd["segmentation"] and written[crowd["id"]]["iscrowd"] == 1
    # a copy in a format with no crowd regions leaves it out, and says so: a YOLO copy wrote it as one object
    code, _, err = run(crm_refine.main, ["--coco", sets["coco"], "--images", sets["voc"] / "JPEGImages", "-o",
                                         tmp_path / "yolo_copy", "--to", "yolo", "--no-refine"], capsys)
    assert code == 0 and "1 shape left out of the copy (boxes, points, lines, crowd regions" in err
    assert sum(len(f.read_text().splitlines()) for f in (tmp_path / "yolo_copy" / "labels").glob("*.txt")) == 3


def test_a_bad_photo_is_reported_skipped_and_the_exit_code_says_so(tmp_path, random_refiner, capsys) -> None:
    sets = make_sets(tmp_path, names=("a", "b", "c"))
    (sets["voc"] / "JPEGImages" / "b.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "out.json"
    code, _, err = run(crm_refine.main, ["--coco", sets["coco"], "--images", sets["voc"] / "JPEGImages", "-o", out,
                                         "--no-matte", "--no-snap"], capsys)
    assert code == 2
    assert "b.jpg" in err and "1 image failed" in err and "Traceback" not in err
    data = json.loads(out.read_text())
    assert sorted(data["crm_refined"]) == [1, 3]  # a and c refined, b kept as it was
    original = json.loads(sets["coco"].read_text())
    assert [a for a in data["annotations"] if a["image_id"] == 2] == [a for a in original["annotations"] if a["image_id"] == 2]


def test_a_coco_file_written_on_windows_finds_its_photos_and_a_record_without_size_fails_the_run(
        tmp_path, random_refiner, capsys) -> None:
    """file_name "photos\\a.jpg" (a COCO file written on Windows) found no photo; and a record without its size
    was said in passing, skipped, and the run exited 0, so a script took it for done."""
    sets = make_sets(tmp_path, names=("a", "b"))
    (tmp_path / "imgs" / "photos").mkdir(parents=True)
    for name in ("a", "b"):
        shutil.copy(sets["voc"] / "JPEGImages" / f"{name}.jpg", tmp_path / "imgs" / "photos" / f"{name}.jpg")
    data = json.loads(sets["coco"].read_text())
    data["images"][0]["file_name"] = "photos\\a.jpg"
    data["images"][1] = {"id": 2, "file_name": "photos/b.jpg"}
    sets["coco"].write_text(json.dumps(data))
    out = tmp_path / "out.json"
    code, _, err = run(crm_refine.main, ["--coco", sets["coco"], "--images", tmp_path / "imgs", "-o", out,
                                         "--no-matte", "--no-snap"], capsys)
    assert code == 2 and "image 'photos/b.jpg' has no width or height; add them" in err and "1 image failed" in err
    assert json.loads(out.read_text())["crm_refined"] == [1]  # photos\a.jpg found and refined


def test_labels_of_a_photo_that_cannot_be_refined_are_written_as_they_are(tmp_path, random_refiner, capsys):
    """A LabelMe file whose photo is missing was left out of the output folder, where the app's export kept it."""
    sets = make_sets(tmp_path, names=("a", "b"))
    (sets["voc"] / "JPEGImages" / "b.jpg").unlink()  # the photo the LabelMe file's imagePath names
    out = tmp_path / "out"
    code, _, err = run(crm_refine.main, ["--labelme", sets["labelme"], "-o", out, "--no-matte", "--no-snap"], capsys)
    assert code == 2 and "b.json names the photo " in err and "b.jpg, which does not exist (nor is one inside the " \
        "file); put the photo there, or correct imagePath" in err and "its labels are written as they are" in err
    given = json.loads((sets["labelme"] / "b.json").read_text())
    assert json.loads((out / "b.json").read_text())["shapes"] == given["shapes"]
    assert json.loads((out / "a.json").read_text())["shapes"] != json.loads((sets["labelme"] / "a.json").read_text())["shapes"]


def test_a_coco_file_converted_without_refining_lists_no_photo_as_refined(tmp_path, random_refiner, capsys):
    """crm_refined listed every photo a conversion wrote, so a --resume into the file refined none of them."""
    sets = make_sets(tmp_path, names=("a", "b"))
    out = tmp_path / "converted.json"
    assert run(crm_refine.main, ["--voc", sets["voc"], "--to", "coco", "--no-refine", "-o", out], capsys)[0] == 0
    data = json.loads(out.read_text())
    assert len(data["images"]) == 2 and data["crm_refined"] == []
    code, out_text, _ = run(crm_refine.main, ["--voc", sets["voc"], "--to", "coco", "-o", out, "--resume", "--json",
                                              "--no-matte", "--no-snap"], capsys)
    report = json.loads(out_text)
    assert code == 0 and report["resumed"] == 0 and report["refined"] == 4  # both photos refined, none skipped
    assert sorted(json.loads(out.read_text())["crm_refined"]) == [1, 2]


def test_a_labelme_file_in_a_subfolder_is_refined_and_written_in_the_same_layout(tmp_path, random_refiner, capsys):
    """A folder with day 2/sub/0406.json beside its photo: crm-refine --labelme read the top folder only and
    reported 9 images of 10; its copy lacked the file."""
    sets = make_sets(tmp_path)
    moved = sets["labelme"] / "day 2" / "sub" / "b.json"
    moved.parent.mkdir(parents=True)
    data = json.loads((sets["labelme"] / "b.json").read_text())
    moved.write_text(json.dumps({**data, "imagePath": "../../../voc/JPEGImages/b.jpg"}))
    (sets["labelme"] / "b.json").unlink()
    out = tmp_path / "out"
    code, _, err = run(crm_refine.main, ["--labelme", sets["labelme"], "-o", out, "--no-matte"], capsys)
    assert code == 0 and "2 images, 4 objects: 4 refined, 0 not refined" in err, err
    written = json.loads((out / "day 2" / "sub" / "b.json").read_text())
    assert written["imagePath"] == "../../../voc/JPEGImages/b.jpg" and written["shapes"] != data["shapes"]
    assert (out / ".crm_refined").read_text() == "a\nday 2/sub/b\n"  # what --resume skips, a name a line
    code, _, err = run(crm_refine.main, ["--labelme", sets["labelme"], "-o", out, "--no-matte", "--resume"], capsys)
    assert code == 0 and "(2 already written)" in err, err


def test_resume_skips_photos_already_written(tmp_path, random_refiner, capsys, monkeypatch) -> None:
    sets = make_sets(tmp_path)
    out = tmp_path / "out"
    argv = ["--voc", sets["voc"], "-o", out, "--no-matte", "--no-snap"]
    assert run(crm_refine.main, argv, capsys)[0] == 0
    (out / "SegmentationClass" / "b.png").unlink()
    from crm_core import objects

    calls = []
    real = objects.refine_object
    monkeypatch.setattr(objects, "refine_object", lambda *a, **k: calls.append(1) or real(*a, **k))
    code, _, err = run(crm_refine.main, [*argv, "--resume"], capsys)
    assert code == 0 and "(1 already written)" in err
    assert len(calls) == 2 and (out / "SegmentationClass" / "b.png").is_file()  # only b's two objects



def test_a_full_disk_stops_the_run_at_the_first_photo_and_resume_goes_on(tmp_path, capsys, monkeypatch) -> None:
    """A tester's copy on a full disk went on through every photo, each failing the same way: it stops, says how
    to go on, and --resume then writes every photo."""
    import errno
    import os

    sets = make_sets(tmp_path, names=("a", "b", "c"))
    out = tmp_path / "out"
    argv = ["--yolo", sets["yolo"], "-o", out, "--no-refine"]
    real = os.replace

    def full(source, target, *args, **kwargs):  # full once the folder is marked as being written
        if Path(target).name == UNFINISHED_FILE:
            return real(source, target, *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    code, _, err = run(crm_refine.main, argv, capsys)
    assert code != 0 and "the disk is full; free some space" in err and "stopped at a" in err and "--resume" in err
    assert "b:" not in err and "c:" not in err  # not tried: they would fail the same way
    assert (out / UNFINISHED_FILE).is_file()
    monkeypatch.setattr(os, "replace", real)
    code, _, err = run(crm_refine.main, argv, capsys)  # run again as it was: said to be unfinished, and how
    assert code != 0 and "stopped before it finished" in err and "--resume" in err
    code, _, err = run(crm_refine.main, [*argv, "--resume"], capsys)
    assert code == 0 and all((out / "labels" / f"{n}.txt").is_file() for n in "abc")
    assert not (out / UNFINISHED_FILE).exists()

def test_resume_into_a_copy_made_without_refining_refines_it(tmp_path, random_refiner, capsys, monkeypatch) -> None:
    """A tester converted a dataset with --no-refine, then resumed a refining run into the copy: every photo was
    skipped as written, and nothing was refined. A photo written as given after its refinement failed is tried
    again too."""
    sets = make_sets(tmp_path)
    out = tmp_path / "out"
    assert run(crm_refine.main, ["--labelme", sets["labelme"], "-o", out, "--no-refine"], capsys)[0] == 0
    from crm_core import objects

    calls = []
    real = objects.refine_object
    monkeypatch.setattr(objects, "refine_object", lambda *a, **k: calls.append(1) or real(*a, **k))
    argv = ["--labelme", sets["labelme"], "-o", out, "--no-matte", "--no-snap", "--resume"]
    code, _, err = run(crm_refine.main, argv, capsys)
    assert code == 0 and "already written" not in err and len(calls) == 4  # both photos' two objects
    code, _, err = run(crm_refine.main, argv, capsys)
    assert code == 0 and "(2 already written)" in err and len(calls) == 4  # now they are done


@pytest.mark.parametrize("kind", ["voc", "yolo"])
def test_a_copy_of_a_dataset_in_its_own_format_holds_its_photos(tmp_path, capsys, kind) -> None:
    """A YOLO (or VOC) copy of a YOLO (VOC) folder had labels beside no photos: read back, every photo was missing."""
    sets = make_sets(tmp_path)
    out = tmp_path / "copy"
    assert run(crm_refine.main, [f"--{kind}", sets[kind], "-o", out, "--no-refine"], capsys)[0] == 0
    copy = open_dataset(kind, out)
    assert [copy.read(n).image.is_file() for n in copy.names()] == [True, True]
    assert all(copy.read(n).image.is_relative_to(out) for n in copy.names())


def test_a_roboflow_export_is_copied_without_refining(tmp_path, capsys) -> None:
    """crm-refine --yolo on Roboflow's train/images + train/labels export said it "holds no NAME.txt label files"."""
    from test_formats import roboflow_folder

    out = tmp_path / "copy"
    code, _, err = run(crm_refine.main, ["--yolo", roboflow_folder(tmp_path, "dotted"), "-o", out, "--no-refine"],
                       capsys)
    assert code == 0, err
    assert sorted(open_dataset("yolo", out).names()) == ["0001", "0001 (valid)", "0002_jpg.rf.3f2a", "0003", "0004"]


def test_min_object_px_skips_small_objects_and_says_so(tmp_path, random_refiner, capsys) -> None:
    sets = make_sets(tmp_path)
    code, _, err = run(crm_refine.main, ["--yolo", sets["yolo"], "-o", tmp_path / "out", "--min-object-px", "1600",
                                         "--no-matte", "--no-snap"], capsys)
    assert code == 0 and "4 objects: 2 refined, 2 not refined (under 1600 px" in err  # the bars are 50×30 px
    bars = [[float(v) for v in line.split()] for line in (tmp_path / "out" / "labels" / "a.txt").read_text().splitlines()
            if line.startswith("1 ")]
    original = [float(v) for v in (sets["yolo"] / "labels" / "a.txt").read_text().splitlines()[1].split()]
    assert len(bars) == 1 and np.allclose(bars[0], original, atol=1e-5)  # the bar, unchanged


def test_a_label_drawn_mostly_outside_its_photo_is_said(tmp_path, random_refiner, capsys) -> None:
    """A YOLO point at 1.7 (the bar's right side pushed past the photo) was refined as its sliver inside, unsaid."""
    sets = make_sets(tmp_path)
    labels = sets["yolo"] / "labels" / "b.txt"
    square, bar = labels.read_text().splitlines()
    values = np.array([float(v) for v in bar.split()[1:]]).reshape(-1, 2)
    values[:, 0] += 0.45  # the bar at x 121-151 px of 128: three quarters of it beyond the right side
    labels.write_text("\n".join([square, " ".join(["1", *(f"{v:.5f}" for v in values.reshape(-1))])]) + "\n")
    code, _, err = run(crm_refine.main, ["--yolo", sets["yolo"], "-o", tmp_path / "out", "--no-matte", "--no-snap"],
                       capsys)
    assert code == 0, err
    assert ("1 label lies mostly outside its photo: b (bar); only the part inside was refined: check it in the "
            "label files") in err


def test_dataset_usage_errors(tmp_path, capsys) -> None:
    sets = make_sets(tmp_path)
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "--labelme", sets["labelme"], "-o", tmp_path / "o"], capsys)
    assert code == 2 and "not --labelme and --voc" in err
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "-o", tmp_path / "o", "--format", "cutout"], capsys)
    assert code == 2 and "its own format" in err
    code, _, err = run(crm_refine.main, ["--labelme", sets["labelme"], "-o", sets["labelme"]], capsys)
    assert code == 2 and "is the input" in err


def test_eval_scores_objects_per_category_across_formats(tmp_path, capsys) -> None:
    sets = make_sets(tmp_path)
    code, out, _ = run(crm_eval.main, ["--voc", sets["voc"], "--pred", sets["coco"], "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    assert len(report["objects"]) == 4 and all(r["matched"] for r in report["objects"])
    assert set(report["categories"]) == {"bar", "square", "all objects"}
    assert 50 < report["categories"]["all objects"]["iou"] < 100  # the shifted polygons are close, not exact
    code, out, _ = run(crm_eval.main, ["--voc", sets["voc"], "--pred", sets["voc"]], capsys)
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert code == 0 and rows["square"][1] == "100.00" and rows["all"][-1] == "4"
    named = tmp_path / "refined"  # a COCO file named without .json is still the one single-file format
    shutil.copy(sets["coco"], named)
    assert json.loads(run(crm_eval.main, ["--voc", sets["voc"], "--pred", named, "--json"], capsys)[1]) == report


def test_a_label_traced_to_the_pixel_comes_back_with_its_own_points_and_is_counted_so(tmp_path, random_refiner,
                                                                                     capsys) -> None:
    """A tester's labels traced at about a pixel came back re-traced, each a little worse, and the summary said
    "44 refined, 0 left as drawn" of labels that came back as they went in."""
    rng = np.random.default_rng(0)
    disc = np.zeros((H, W), np.uint8)
    cv2.circle(disc, (64, 48), 30, 1, -1)
    image = np.where(disc[..., None] > 0, (40, 60, 200), (200, 200, 190)) + rng.normal(0, 5, (H, W, 3))
    folder = tmp_path / "lm"
    folder.mkdir()
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(folder / "p.png")
    points = np.round(trace_polygons(disc > 0, 0.5)[0], 2).tolist()
    (folder / "p.json").write_text(json.dumps({
        "version": "5.4.1", "flags": {}, "imagePath": "p.png", "imageData": None, "imageHeight": H, "imageWidth": W,
        "shapes": [{"label": "disc", "points": points, "group_id": None, "shape_type": "polygon", "flags": {}}]}))
    code, _, err = run(crm_refine.main, ["--labelme", folder, "-o", tmp_path / "out"], capsys)
    assert code == 0 and "1 refined (1 of them kept as drawn: the photo shows no better edge)" in err, err
    written = json.loads((tmp_path / "out" / "p.json").read_text())["shapes"][0]["points"]
    assert written == points


def test_a_labelme_photo_only_embedded_is_refined_and_not_said_missing(tmp_path, random_refiner, capsys) -> None:
    """LabelMe's default keeps the photo in imageData: the object was refined, and the summary said "photos not
    found" of it."""
    sets = make_sets(tmp_path)
    for name in ("a", "b"):
        path = sets["labelme"] / f"{name}.json"
        data = json.loads(path.read_text())
        jpg = sets["voc"] / "JPEGImages" / f"{name}.jpg"
        data.update(imagePath="elsewhere.jpg", imageData=base64.b64encode(jpg.read_bytes()).decode())
        path.write_text(json.dumps(data))
    code, _, err = run(crm_refine.main, ["--labelme", sets["labelme"], "-o", tmp_path / "out", "--no-matte"], capsys)
    assert code == 0 and "not found" not in err and "4 refined" in err, err


def test_a_yolo_photo_with_a_bad_line_is_refined_but_for_that_line_which_is_copied_as_it_is_and_said(
        tmp_path, random_refiner, capsys) -> None:
    """A class number out of range on one line: the refined copy lacked that photo and its labels, then the photo
    was copied unrefined, its good lines too."""
    sets = make_sets(tmp_path)
    given = (sets["yolo"] / "labels" / "b.txt").read_text().splitlines()
    broken = "7 " + given[0].split(" ", 1)[1]
    (sets["yolo"] / "labels" / "b.txt").write_text("\n".join([broken, *given]) + "\n")
    code, _, err = run(crm_refine.main, ["--yolo", sets["yolo"], "-o", tmp_path / "out", "--no-matte"], capsys)
    assert code == 0 and "b.txt:1 has class 7" in err
    assert "(the record is kept as the file has it, not refined)" in err
    written = (tmp_path / "out" / "labels" / "b.txt").read_text().splitlines()
    assert written[0] == broken and len(written) > 1 and written[1:] != given  # the good lines refined
    assert len(list((tmp_path / "out" / "images").glob("b.*"))) == 1 and (tmp_path / "out" / "labels" / "a.txt").is_file()


def test_a_labelme_file_that_cannot_be_read_is_copied_pointing_at_its_photo(tmp_path, random_refiner, capsys):
    """A shape without points on one photo: the refined copy lacked that photo's file."""
    sets = make_sets(tmp_path)
    broken = json.loads((sets["labelme"] / "b.json").read_text())
    del broken["shapes"][0]["points"]
    (sets["labelme"] / "b.json").write_text(json.dumps(broken))
    (sets["labelme"] / "c.json").write_text('{"shapes": [')  # not JSON: copied byte for byte
    code, _, err = run(crm_refine.main, ["--labelme", sets["labelme"], "-o", tmp_path / "out" / "lm", "--no-matte"],
                       capsys)
    assert code == 2 and "c.json is not valid JSON" in err and "its labels are written as they are" in err, err
    assert "b.json: shape 0 lacks a label or points; fix or delete that shape (the record is kept as the file has it, " \
           "not refined)" in err
    copied = json.loads((tmp_path / "out" / "lm" / "b.json").read_text())
    assert copied["shapes"][0] == broken["shapes"][0] and copied["imagePath"] == "../../voc/JPEGImages/b.jpg"
    assert (tmp_path / "out" / "lm" / "c.json").read_text() == '{"shapes": ['
    assert json.loads((tmp_path / "out" / "lm" / "a.json").read_text())["imagePath"] == "../../voc/JPEGImages/a.jpg"


def test_a_voc_label_map_that_cannot_be_read_is_copied_as_it_is_with_its_photo(tmp_path, random_refiner, capsys):
    sets = make_sets(tmp_path)
    (sets["voc"] / "SegmentationClass" / "b.png").write_bytes(b"not a png")
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "-o", tmp_path / "out", "--no-matte"], capsys)
    assert code == 2 and "written as they are" in err, err
    assert (tmp_path / "out" / "SegmentationClass" / "b.png").read_bytes() == b"not a png"
    assert (tmp_path / "out" / "JPEGImages" / "b.jpg").is_file() and (tmp_path / "out" / "labels.txt").is_file()
    assert (tmp_path / "out" / "SegmentationClass" / "a.png").is_file()


def test_a_voc_photo_without_its_object_map_is_named_and_copied_as_the_source_has_it(tmp_path, random_refiner,
                                                                                      capsys):
    """A VOC folder with SegmentationObject/ but one photo's map missing: said as "not a PNG this program can read
    ([Errno 2] …)", and the export left the photo out, where the README says it is copied unchanged (a tester)."""
    sets = make_sets(tmp_path)
    objects = sets["voc"] / "SegmentationObject"
    objects.mkdir()
    labels, _ = read_labels(sets["voc"] / "SegmentationClass" / "a.png")
    write_labels(objects / "a.png", labels, None)  # one instance per class here
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "-o", tmp_path / "out", "--no-refine"], capsys)
    assert f"{objects / 'b.png'} does not exist, though SegmentationObject/ holds the object maps of the other " \
           "photos" in err and "Errno" not in err, err
    out = tmp_path / "out"
    given = sets["voc"] / "SegmentationClass" / "b.png"
    assert (out / "SegmentationClass" / "b.png").read_bytes() == given.read_bytes()
    assert (out / "JPEGImages" / "b.jpg").is_file() and not (out / "SegmentationObject" / "b.png").exists()
    assert (out / "SegmentationObject" / "a.png").is_file()


def test_a_voc_detection_folder_s_boxes_are_read_and_its_bad_records_named(tmp_path, capsys) -> None:
    """An annotator's VOC folder of boxes (Annotations/*.xml, as LabelImg writes them) was refused as holding "no
    PNG label maps". Its boxes are read now; a copy in VOC's own format, label maps, has no place for boxes left
    boxes (said), and an object without a box is named with what to do."""
    root = detection_sets(tmp_path)["voc"]
    xml = root / "Annotations" / "a.xml"
    xml.write_text(xml.read_text().replace("</annotation>", "<object><name>lid</name></object></annotation>"))
    item = open_dataset("voc", root).read("a")
    assert [(o.label, o.box) for o in item.objects] == [("square", (20, 20, 60, 70)), ("bar", (60, 20, 90, 70)),
                                                          ("lid", None)]
    assert "object 3 ('lid') has no <bndbox>" in item.objects[2].problem
    code, _, err = run(crm_refine.main, ["--voc", root, "-o", tmp_path / "out", "--no-refine"], capsys)
    assert code == 0 and "object 3 ('lid') has no <bndbox>" in err, err
    # not written as an all-background map, which would say there is nothing on the photo; its boxes not counted
    # again among the shapes left out
    assert "1 photo labelled by detection boxes alone not in the copy" in err and "shapes left out" not in err
    assert not (tmp_path / "out" / "SegmentationClass" / "a.png").exists()
    for kind, out in (("coco", tmp_path / "c.json"), ("yolo", tmp_path / "y"), ("labelme", tmp_path / "l")):
        # a format that holds boxes keeps them: a COCO copy of a VOC detection folder had no annotation at all
        code, _, err = run(crm_refine.main, ["--voc", root, "-o", out, "--to", kind, "--no-refine"], capsys)
        assert code == 0 and "2 objects: written as they were" in err and "shapes left out" not in err, err
        back = open_dataset(kind, out).read("a" if kind != "coco" else open_dataset(kind, out).names()[0])
        assert [(o.label, o.box) for o in back.objects] == [("square", pytest.approx((20, 20, 60, 70), abs=0.01)),
                                                            ("bar", pytest.approx((60, 20, 90, 70), abs=0.01))], kind
    (tmp_path / "b.xml").write_text("<annotation><object>")  # broken XML: that photo fails, said, the rest go on
    shutil.copy(tmp_path / "b.xml", root / "Annotations" / "b.xml")
    shutil.copy(root / "JPEGImages" / "a.jpg", root / "JPEGImages" / "b.jpg")
    code, _, err = run(crm_refine.main, ["--voc", root, "-o", tmp_path / "out2", "--no-refine"], capsys)
    assert code == 2 and "b.xml cannot be read as XML" in err, err


def test_eval_counts_a_missing_object_as_zero_and_a_missing_photo_as_failed(tmp_path, capsys) -> None:
    sets = make_sets(tmp_path)
    pred = tmp_path / "pred"
    shutil.copytree(sets["yolo"], pred)
    first = (pred / "labels" / "a.txt").read_text().splitlines()[0]
    (pred / "labels" / "a.txt").write_text(f"{first}\n1 0.2 0.2 oops 0.4 0.6 0.6\n")  # the bar's line, unreadable
    (pred / "labels" / "b.txt").unlink()
    code, out, err = run(crm_eval.main, ["--voc", sets["voc"], "--pred", pred, "--json"], capsys)
    assert err.count("(read as no prediction: its object scores 0)") == 1 and "not scored" not in err
    report = json.loads(out)
    assert code == 2 and report["failed"] == [f"b: {pred} has no prediction for b"]  # the input's doing (README)
    said = [line for line in err.splitlines() if "has no prediction" in line]  # one line, however many photos
    assert code == 2 and said == [f"crm-eval: {pred} has no prediction for 1 photo of the ground truth (b): "
                                  "scored without it"]
    bar = [r for r in report["objects"] if r["label"] == "bar"]
    assert bar == [{"image": "a", "id": 2, "label": "bar", "matched": False, "iou": 0.0, "mba": bar[0]["mba"]}]


def test_refine_into_another_format_and_convert_without_refining(tmp_path, random_refiner, capsys) -> None:
    sets = make_sets(tmp_path)
    photos = sets["voc"] / "JPEGImages"
    code, _, err = run(crm_refine.main, ["--coco", sets["coco"], "--images", photos, "-o", tmp_path / "y", "--to", "yolo",
                                         "--no-matte", "--no-snap"], capsys)
    assert code == 0 and "4 objects: 4 refined" in err, err
    assert (tmp_path / "y" / "classes.txt").read_text() == "square\nbar\n"
    refined = open_dataset("yolo", tmp_path / "y", photos)
    assert {o.label for o in refined.read("a").objects} == {"square", "bar"}
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "-o", tmp_path / "lm_copy", "--to", "labelme",
                                         "--no-refine"], capsys)
    assert code == 0 and "written as they were" in err, err
    copied = open_dataset("labelme", tmp_path / "lm_copy")
    item, truth = copied.read("a"), open_dataset("voc", sets["voc"]).read("a")
    assert [o.label for o in item.objects] == [o.label for o in truth.objects] == ["square", "bar"]
    for got, want in zip(item.objects, truth.objects):  # traced within the 1 px default tolerance
        assert np.count_nonzero(got.raster(item.hw) ^ want.raster(item.hw)) <= 2 * (50 + 40)
    assert "not found" not in err
    shutil.move(photos / "b.jpg", tmp_path / "b.jpg")  # a copy that names a photo that is not there: said
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "-o", tmp_path / "lm2", "--to", "labelme", "--no-refine"],
                       capsys)
    said = "1 photo not found: the copy's labels name it where it was looked for"
    assert code == 0 and f"{said} (give --images)" in err, err
    assert "photos not found: b" in err  # which one
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "-o", tmp_path / "lm4", "--to", "labelme"], capsys)
    assert code != 0 and f"b: its photo {photos / 'b.jpg'} does not exist; put the photo of " \
        f"{sets['voc'] / 'SegmentationClass' / 'b.png'} there, or remove that label map" in err, err  # named once
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "--images", photos, "-o", tmp_path / "lm3", "--to",
                                         "labelme", "--no-refine"], capsys)  # looked for in --images: not "give" it
    assert code == 0 and f"{said} (not in {photos} either: check it)" \
        in err, err
    code, _, err = run(crm_refine.main, [photos / "a.jpg", photos / "a.jpg", "-o", tmp_path / "x.png", "--to", "coco"], capsys)
    assert code == 2 and "applies to a dataset" in err


def test_eval_with_coarse_scores_polygons_guided_filter_and_crm_per_category(tmp_path, random_refiner, capsys) -> None:
    sets = make_sets(tmp_path)
    code, out, err = run(crm_eval.main, ["--voc", sets["voc"], "--coarse", sets["coco"], "--json", "--no-matte"], capsys)
    assert code == 0, err
    report = json.loads(out)
    methods = ("coarse (as given)", "guided filter", "CRM")
    assert set(report["categories"]) == {f"{c} / {m}" for c in ("bar", "square", "all objects") for m in methods}
    assert all(report["categories"][f"all objects / {m}"]["n"] == 4 for m in methods)  # every object, every row
    alone = json.loads(run(crm_eval.main, ["--voc", sets["voc"], "--pred", sets["coco"], "--json"], capsys)[1])
    # the coarse row is the polygons as given: the same numbers as scoring them as a prediction
    assert report["categories"]["all objects / coarse (as given)"] == alone["categories"]["all objects"]
    guided = report["categories"]["all objects / guided filter"]["iou"]
    assert guided != report["categories"]["all objects / coarse (as given)"]["iou"]  # the filter did move the edges
    # with --pred, the prediction takes the CRM row's place and no model is loaded
    random_refiner.clear()
    code, out, _ = run(crm_eval.main, ["--voc", sets["voc"], "--coarse", sets["coco"], "--pred", sets["voc"]], capsys)
    rows = {line.rsplit(None, 5)[0]: line.split() for line in out.splitlines()[2:]}
    assert code == 0 and not random_refiner
    assert rows["all objects / prediction"][-5] == "100.00" and "all objects / guided filter" in rows


def test_a_labelme_circle_drawn_loosely_around_a_ball_is_refined_onto_it(tmp_path, bundled_by_default, capsys) -> None:
    """A circle was written back untouched: the refine never saw it. Drawn 5 px too wide and 3 px off the ball's
    centre, it now comes back as a polygon hugging the ball, with its label and fields."""
    h, w = 160, 200
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:h, :w]
    ball = (xx - 100) ** 2 + (yy - 80) ** 2 <= 40 ** 2
    image = np.where(ball[..., None], [220, 120, 30], [70, 110, 80]) + rng.normal(0, 6, (h, w, 3))
    folder = tmp_path / "lm"
    folder.mkdir()
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(folder / "p.png")
    circle = {"label": "ball", "points": [[103.0, 78.0], [148.0, 78.0]], "group_id": None, "shape_type": "circle",
              "flags": {"checked": True}}
    (folder / "p.json").write_text(json.dumps({"version": "5.4.1", "flags": {}, "shapes": [circle], "imagePath": "p.png",
                                               "imageData": None, "imageHeight": h, "imageWidth": w}))
    given = open_dataset("labelme", folder).read("p").objects[0].raster((h, w))
    code, _, err = run(crm_refine.main, ["--labelme", folder, "-o", tmp_path / "out"], capsys)
    assert code == 0, err
    (shape,) = json.loads((tmp_path / "out" / "p.json").read_text())["shapes"]
    assert (shape["shape_type"], shape["label"], shape["flags"]) == ("polygon", "ball", {"checked": True})
    refined = open_dataset("labelme", tmp_path / "out").read("p").objects[0].raster((h, w))
    iou = lambda m: (m & ball).sum() / (m | ball).sum()  # noqa: E731
    assert iou(given) < 0.8 and iou(refined) > 0.95


def detection_sets(root: Path) -> dict[str, Path]:
    """The two-object scene labelled as a detector labels it, a box per object: a COCO file (bbox, no
    segmentation), a LabelMe folder of rectangles and a YOLO folder of 5-number lines; a point too, which no
    --boxes makes an area."""
    image, _ = scene(0)
    photos, lm, yolo = root / "photos", root / "lm", root / "yolo"
    for folder in (photos, lm, yolo / "images", yolo / "labels"):
        folder.mkdir(parents=True)
    for folder in (photos, lm, yolo / "images"):
        Image.fromarray(image).save(folder / "a.png")
    boxes = {"square": (20, 20, 60, 70), "bar": (60, 20, 90, 70)}
    anns = [{"id": 7 + i, "image_id": 1, "category_id": i + 1, "iscrowd": 0, "segmentation": [], "area": 0,
             "bbox": [left, top, right - left, bottom - top], "score": 0.9} for i, (left, top, right, bottom)
            in enumerate(boxes.values())]
    (root / "det.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "a.png", "width": W, "height": H}],
                                               "annotations": anns, "categories": [{"id": 1, "name": "square"},
                                                                                   {"id": 2, "name": "bar"}]}))
    shapes = [{"label": label, "points": [[left, top], [right, bottom]], "group_id": None, "shape_type": "rectangle",
               "flags": {"checked": True}} for label, (left, top, right, bottom) in boxes.items()]
    shapes.append({"label": "tip", "points": [[5, 5]], "group_id": None, "shape_type": "point", "flags": {}})
    (lm / "a.json").write_text(json.dumps({"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": "a.png",
                                           "imageData": None, "imageHeight": H, "imageWidth": W}))
    (yolo / "classes.txt").write_text("square\nbar\n")
    (yolo / "labels" / "a.txt").write_text("".join(
        f"{i} {(l + r) / 2 / W:.6f} {(t + b) / 2 / H:.6f} {(r - l) / W:.6f} {(b - t) / H:.6f}\n"
        for i, (l, t, r, b) in enumerate(boxes.values())))
    voc = root / "voc"  # LabelImg's: VOC counts pixels from 1, corners inclusive
    for folder in (voc / "JPEGImages", voc / "Annotations"):
        folder.mkdir(parents=True)
    Image.fromarray(image).save(voc / "JPEGImages" / "a.jpg", quality=95)
    (voc / "Annotations" / "a.xml").write_text(
        f"<annotation><filename>a.jpg</filename><size><width>{W}</width><height>{H}</height><depth>3</depth></size>"
        + "".join(f"<object><name>{label}</name><difficult>0</difficult><bndbox><xmin>{left + 1}</xmin><ymin>{top + 1}"
                  f"</ymin><xmax>{right}</xmax><ymax>{bottom}</ymax></bndbox></object>"
                  for label, (left, top, right, bottom) in boxes.items()) + "</annotation>")
    return {"coco": root / "det.json", "labelme": lm, "yolo": yolo, "voc": voc}


@pytest.mark.parametrize("kind", ["coco", "labelme", "yolo", "voc"])
def test_boxes_makes_each_detection_box_the_mask_of_the_object_in_it(tmp_path, bundled_by_default, capsys, kind):
    """A detector's labels (boxes) were kept as boxes, nothing refined: an annotator turning a detection set into
    a segmentation one had nothing to start from. With --boxes each box becomes the object in it, written as
    polygons of its label and fields; without it the run says the boxes were kept and how to have them."""
    sets = detection_sets(tmp_path)
    source = ["--images", tmp_path / "photos"] if kind == "coco" else []
    out = tmp_path / ("out.json" if kind == "coco" else "out")
    code, _, err = run(crm_refine.main, [f"--{kind}", sets[kind], *source, "-o", out, "--boxes"], capsys)
    assert code == 0, err
    assert "2 detection boxes: 2 made masks of the object in them" in err
    written = open_dataset(kind, out, tmp_path / "photos" if kind == "coco" else None).read("a.png" if kind == "coco"
                                                                                          else "a")
    _, labels = scene(0)
    areas = {o.label: o.raster((H, W)) for o in written.objects if o.refinable}
    for value, label in ((1, "square"), (2, "bar")):
        truth = labels == value
        assert (areas[label] & truth).sum() / (areas[label] | truth).sum() > 0.95, label
    if kind == "coco":
        anns = json.loads(out.read_text())["annotations"]
        assert [(a["id"], a["score"], a["bbox"]) for a in anns] == [(7, 0.9, [20, 20, 40, 50]),
                                                                    (8, 0.9, [60, 20, 30, 50])]
        assert all(len(a["segmentation"][0]) >= 8 for a in anns)
    if kind == "labelme":
        shapes = json.loads((out / "a.json").read_text())["shapes"]
        assert [(s["label"], s["shape_type"], s["flags"]) for s in shapes] == [
            ("square", "polygon", {"checked": True}), ("bar", "polygon", {"checked": True}), ("tip", "point", {})]
    code, _, err = run(crm_refine.main, [f"--{kind}", sets[kind], *source, "-o", tmp_path / "kept", "--no-matte"],
                       capsys)
    assert code == 0 and "2 detection boxes not outlined; give --boxes to make each the mask" in err
    code, _, err = run(crm_refine.main, [f"--{kind}", sets[kind], *source, "-o", tmp_path / "found", "--boxes",
                                         "--no-refine"], capsys)  # the objects found, not refined: said so
    assert code == 0 and "objects: written unrefined" in err and "2 made masks of the object" in err


def test_an_output_that_exists_is_refused_unless_the_person_says_resume_or_overwrite(tmp_path, capsys) -> None:
    """A VOC copy written into the ground-truth folder beside the input replaced its label maps without a word."""
    sets = make_sets(tmp_path)
    truth = tmp_path / "truth"
    shutil.copytree(sets["voc"], truth)
    maps = {f.name: f.read_bytes() for f in (truth / "SegmentationClass").iterdir()}
    code, _, err = run(crm_refine.main, ["--coco", sets["coco"], "--images", sets["voc"] / "JPEGImages", "-o", truth,
                                         "--to", "voc", "--no-refine"], capsys)
    assert code == 2 and "already holds" in err and "--overwrite" in err
    assert {f.name: f.read_bytes() for f in (truth / "SegmentationClass").iterdir()} == maps  # untouched
    out = tmp_path / "copy.json"
    out.write_text("{}")
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "-o", out, "--to", "coco", "--no-refine"], capsys)
    assert code == 2 and "already exists" in err and out.read_text() == "{}"
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "-o", out, "--to", "coco", "--no-refine", "--overwrite"],
                       capsys)
    assert code == 0 and len(json.loads(out.read_text())["images"]) == 2
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "-o", tmp_path, "--to", "coco", "--no-refine"], capsys)
    assert code == 2 and "a COCO output is one .json file" in err


@pytest.mark.parametrize("kind", ["coco", "yolo"])
def test_an_output_no_file_can_be_written_in_is_refused_before_any_photo_is_refined(tmp_path, random_refiner, capsys,
                                                                                   kind) -> None:
    """A tester's copy into a read-only folder refined every photo (29 s) before it said it could not write there."""
    sets = make_sets(tmp_path)
    out = Path("/proc/refined.json" if kind == "coco" else "/proc/refined")
    code, _, err = run(crm_refine.main, ["--voc", sets["voc"], "-o", out, "--to", kind], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "does not accept new files" in err
    assert random_refiner == []  # refused before the model was even loaded


def test_an_object_written_in_pieces_is_scored_whole() -> None:
    """A YOLO file may write an object in several pieces as several lines (as this tool's did); scored one to one,
    all but one piece were dropped (83.7 IoU for a copy whose COCO twin scored 98.6)."""
    from crm_core.cli.dataset import ALL_ROW, match, score_objects
    from crm_core.formats.objects import ImageObject, ImageObjects

    left, right = np.zeros((40, 60), bool), np.zeros((40, 60), bool)
    left[5:20, 5:20], right[20:35, 35:55] = True, True
    gt = ImageObjects("a", Path("a.jpg"), (60, 40), (ImageObject(1, "bag", mask=left | right),
                                                     ImageObject(2, "hat", mask=np.zeros((40, 60), bool))))
    pred = ImageObjects("a", Path("a.jpg"), (60, 40), (ImageObject(1, "bag", mask=right),
                                                       ImageObject(2, "bag", mask=left), ImageObject(3, "hat", mask=left)))
    assert match(gt, pred) == [(0, [0, 1]), (1, [2])]
    stray, watch = np.zeros((40, 60), bool), np.zeros((40, 60), bool)
    stray[0:4, 56:60], watch[30:34, 0:4] = True, True  # a piece off the bag, and a label the truth has none of
    pred = ImageObjects("a", Path("a.jpg"), (60, 40), (*pred.objects, ImageObject(4, "bag", mask=stray),
                                                       ImageObject(5, "watch", mask=watch)))
    assert match(gt, pred) == [(0, [0, 1, 3]), (1, [2]), (None, [4])]
    scores = {}
    rows = score_objects(gt, pred, "prediction", scores)
    assert rows[-1] == {"id": None, "label": "watch", "matched": False, "iou": 0.0, "mba": 0.0}
    assert scores[ALL_ROW, "prediction"].n == 3 and scores[ALL_ROW, "prediction"].union > (left | right).sum()


def test_a_mask_folder_scored_against_labelled_truth_is_refused_not_scored_zero(tmp_path, capsys) -> None:
    sets = make_sets(tmp_path)
    run(crm_refine.main, ["--voc", sets["voc"], "-o", tmp_path / "m", "--to", "mask", "--no-refine"], capsys)
    code, out, err = run(crm_eval.main, ["--voc", sets["voc"], "--pred", tmp_path / "m", "--pred-format", "mask"],
                         capsys)
    assert code == 2 and "one mask per photo without labels" in err and "IoU" not in out


@pytest.mark.parametrize("kind", ["voc", "labelme"])
def test_a_mask_copy_says_it_merges_the_categories(tmp_path, capsys, kind) -> None:
    """A LabelMe folder declares no categories: a tester's copy of one to BIG merged its labels without a word."""
    sets = make_sets(tmp_path)
    code, _, err = run(crm_refine.main, [f"--{kind}", sets[kind], "-o", tmp_path / "m", "--to", "mask", "--no-refine"],
                       capsys)
    assert code == 0 and "objects of each photo are merged" in err and "2 categories are not kept" in err
