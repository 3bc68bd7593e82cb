"""Cross-format export: a dataset read in one format, written in another, reads back as the same objects
(labels and pixels), with category names kept and each format's category files written."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as rle_codec

from crm_core.errors import InputError
from crm_core.formats import convert, detect, open_dataset
from crm_core.formats.objects import ImageObject, mask_box
from crm_core.formats.labelmap import read_labels, voc_palette, write_labels

H, W = 60, 80
SOURCES = ("coco", "labelme", "voc", "yolo")
TARGETS = ("coco", "labelme", "voc", "yolo", "mask", "big")


def objects_of(index: int) -> list[tuple[str, np.ndarray]]:
    """A photo's objects: a square and a bar that share an edge, and a second square apart (same class, another
    instance); they move with the photo's index so photos differ."""
    def box(top, left, bottom, right):
        m = np.zeros((H, W), bool)
        m[top + index:bottom + index, left:right] = True
        return m
    return [("square", box(10, 10, 35, 35)), ("bar", box(10, 35, 35, 50)), ("square", box(40, 55, 55, 75))]


def write_photo(path: Path, index: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(index).integers(0, 255, (H, W, 3), dtype=np.uint8)).save(path)


def make_voc(root: Path) -> Path:
    """A VOC folder written by hand: class and instance maps, labels.txt."""
    (root / "labels.txt").parent.mkdir(parents=True, exist_ok=True)
    (root / "labels.txt").write_text("background\nsquare\nbar\n")
    for i, name in enumerate(("p0", "p1")):
        write_photo(root / "JPEGImages" / f"{name}.jpg", i)
        classes, instances = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
        for number, (label, mask) in enumerate(objects_of(i), start=1):
            classes[mask] = 1 if label == "square" else 2
            instances[mask] = number
        write_labels(root / "SegmentationClass" / f"{name}.png", classes, voc_palette())
        write_labels(root / "SegmentationObject" / f"{name}.png", instances, voc_palette())
    return root


def make_coco(root: Path, photos: Path) -> Path:
    """A COCO file written by hand: categories with ids 7 and 9 (not indices), polygons and one RLE."""
    coco = {"images": [], "annotations": [], "categories": [{"id": 7, "name": "square"}, {"id": 9, "name": "bar"}]}
    for i, name in enumerate(("p0", "p1")):
        coco["images"].append({"id": 100 + i, "file_name": f"{name}.jpg", "width": W, "height": H})
        for k, (label, mask) in enumerate(objects_of(i)):
            if k == 2:
                rle = rle_codec.encode(np.asfortranarray(mask.astype(np.uint8)))
                seg = {"size": [H, W], "counts": rle["counts"].decode("ascii")}
            else:  # COCO's polygons run along pixel edges, as pycocotools fills them
                top, left, bottom, right = mask_box(mask)
                seg = [[left, top, right, top, right, bottom, left, bottom]]
                assert np.array_equal(rle_codec.decode(rle_codec.merge(rle_codec.frPyObjects(seg, H, W))), mask)
            coco["annotations"].append({"id": 1000 + 10 * i + k, "image_id": 100 + i, "category_id": 7 if label == "square" else 9,
                                        "segmentation": seg, "iscrowd": 0, "attributes": {"occluded": False}})
    path = root / "coco.json"
    path.write_text(json.dumps(coco))
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, tuple[Path, Path | None]]:
    """The same two photos in four formats: (path, photos folder to pass as images, if the format needs one)."""
    root = tmp_path_factory.mktemp("sources")
    voc = make_voc(root / "voc")
    photos = voc / "JPEGImages"
    coco = make_coco(root, photos)
    lm, yolo = root / "lm", root / "yolo"
    list(convert(open_dataset("coco", coco, photos), "labelme", lm, tolerance=0))
    list(convert(open_dataset("voc", voc), "yolo", yolo, tolerance=0))
    return {"coco": (coco, photos), "labelme": (lm, None), "voc": (voc, None), "yolo": (yolo, photos)}


def shapes(kind: str, path: Path, images: Path | None) -> dict[str, list[tuple[str, np.ndarray]]]:
    ds = open_dataset(kind, path, images if kind in ("coco", "voc", "yolo") else None)
    out = {}
    for name in ds.names():
        item = ds.read(name)
        out[Path(name).stem] = [(o.label, o.raster(item.hw)) for o in item.objects if o.refinable]
    return out


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", SOURCES)
def test_read_a_write_b_read_b_gives_the_same_objects(source, target, sources, tmp_path) -> None:
    path, images = sources[source]
    out = tmp_path / ("out.json" if target == "coco" else "out")
    done = list(convert(open_dataset(source, path, images if source in ("coco", "yolo") else None), target, out, tolerance=0))
    assert [d.written for d in done] == [3, 3] and not any(d.error for d in done)
    again = shapes(target, out, sources["coco"][1])
    for index, name in enumerate(("p0", "p1")):
        expected = objects_of(index)
        if target in ("mask", "big"):  # one mask per photo: the union of its objects
            ((label, mask),) = again[name]
            assert np.array_equal(mask, np.any([m for _, m in expected], axis=0))
            continue
        assert [label for label, _ in again[name]] == [label for label, _ in expected]
        for (_, got), (_, want) in zip(again[name], expected):
            assert np.array_equal(got, want)  # pixel-exact at tolerance 0: the shapes have no holes


def test_a_yolo_copy_of_another_format_is_a_folder_ultralytics_trains_on_as_it_is(sources, tmp_path) -> None:
    """Labels alone, beside no photos and with no data.yaml, could not be trained on without hand work."""
    import yaml

    coco, photos = sources["coco"]
    out = tmp_path / "y"
    list(convert(open_dataset("coco", coco, photos), "yolo", out))
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data == {"train": "images", "val": "images", "names": {0: "square", 1: "bar"}}
    for name in ("p0", "p1"):  # images/NAME beside labels/NAME.txt, as Ultralytics pairs them; the same bytes
        (photo,) = (out / "images").glob(f"{name}.*")
        assert (out / "labels" / f"{name}.txt").is_file()
        assert photo.read_bytes() == next(photos.glob(f"{name}.*")).read_bytes()
    again = open_dataset("yolo", out)  # no --images needed any more
    assert [len(again.read(n).objects) for n in again.names()] == [3, 3]
    (out / "data.yaml").write_text("path: /data/shapes\ntrain: images\nval: images\nnames: [a]\n")
    list(convert(open_dataset("coco", coco, photos), "yolo", out))  # a second run keeps what else the file says
    assert yaml.safe_load((out / "data.yaml").read_text()) == {
        "path": "/data/shapes", "train": "images", "val": "images", "names": ["square", "bar"]}


def test_a_voc_copy_of_another_format_holds_its_photos(sources, tmp_path) -> None:
    """Read back, a VOC copy found none of its photos: "10 photos not found"."""
    coco, photos = sources["coco"]
    out = tmp_path / "v"
    list(convert(open_dataset("coco", coco, photos), "voc", out))
    for name in ("p0", "p1"):
        (photo,) = (out / "JPEGImages").glob(f"{name}.*")
        assert photo.read_bytes() == next(photos.glob(f"{name}.*")).read_bytes()
    again = open_dataset("voc", out)  # no --images needed
    assert [len(again.read(n).objects) for n in again.names()] == [3, 3]


def test_category_files_keep_names_and_the_sources_order(sources, tmp_path) -> None:
    coco, photos = sources["coco"]
    ds = open_dataset("coco", coco, photos)
    for kind in ("yolo", "voc"):
        list(convert(ds, kind, tmp_path / kind))
    list(convert(open_dataset("voc", sources["voc"][0]), "coco", tmp_path / "c.json"))
    assert (tmp_path / "yolo" / "classes.txt").read_text() == "square\nbar\n"
    assert (tmp_path / "voc" / "labels.txt").read_text() == "background\nsquare\nbar\n"
    values, palette = read_labels(tmp_path / "voc" / "SegmentationClass" / "p0.png")
    assert palette[:9] == [0, 0, 0, 128, 0, 0, 0, 128, 0]  # VOC's colours: background black, class 1 dark red, 2 green
    assert set(np.unique(values)) == {0, 1, 2}
    instances, _ = read_labels(tmp_path / "voc" / "SegmentationObject" / "p0.png")
    assert set(np.unique(instances)) == {0, 1, 2, 3}  # the two squares stay two objects
    data = json.loads((tmp_path / "c.json").read_text())
    assert [(c["id"], c["name"]) for c in data["categories"]] == [(1, "square"), (2, "bar")]
    # file_name leads from the output's folder to the photo, so the file reads back without --images
    assert [(tmp_path / r["file_name"]).resolve() for r in data["images"]] == [(photos / n).resolve() for n in ("p0.jpg", "p1.jpg")]
    assert len({a["id"] for a in data["annotations"]}) == 6


def test_shapes_that_are_not_areas_are_left_out_and_counted(sources, tmp_path) -> None:
    lm = tmp_path / "lm"
    lm.mkdir()
    data = json.loads((sources["labelme"][0] / "p0.json").read_text())
    data["imagePath"] = str(sources["coco"][1] / "p0.jpg")
    data["shapes"].append({"label": "logo", "points": [[1, 1], [5, 5]], "group_id": None, "shape_type": "line",
                           "flags": {}})
    data["shapes"].append({"label": "sign", "points": [[1, 1], [5, 5]], "group_id": None, "shape_type": "rectangle",
                           "flags": {}})
    (lm / "p0.json").write_text(json.dumps(data))
    (done,) = convert(open_dataset("labelme", lm), "yolo", tmp_path / "y")
    assert (done.written, done.dropped) == (4, 1)  # a line has no place in YOLO; a rectangle is a detection box
    assert "logo" not in (tmp_path / "y" / "classes.txt").read_text()
    assert (tmp_path / "y" / "labels" / "p0.txt").read_text().splitlines()[-1].split()[1:] == \
        [f"{v:.6f}" for v in (3 / W, 3 / H, 4 / W, 4 / H)]


@pytest.mark.parametrize("target", ("yolo", "coco", "voc"))
def test_a_label_added_on_an_early_photo_is_numbered_after_the_source_s_labels(sources, tmp_path, target) -> None:
    """LabelMe declares no classes: numbered as met while writing, a "bird" added in the app on the first photo
    took the number of "bar", first used on the second photo, and every bar's YOLO class id moved."""
    lm = tmp_path / "lm"
    lm.mkdir()
    for name in ("p0", "p1"):
        data = json.loads((sources["labelme"][0] / f"{name}.json").read_text())
        data["imagePath"] = str(sources["coco"][1] / f"{name}.jpg")
        if name == "p0":
            data["shapes"] = [shape for shape in data["shapes"] if shape["label"] != "bar"]
        (lm / f"{name}.json").write_text(json.dumps(data))
    bird = np.zeros((H, W), bool)
    bird[2:8, 60:70] = True

    def add_a_bird(item):
        added = (ImageObject("new", "bird", mask=bird),) if item.name == "p0" else ()
        return replace(item, objects=item.objects + added)

    out = tmp_path / ("out.json" if target == "coco" else "out")
    list(convert(open_dataset("labelme", lm), target, out, transform=add_a_bird))
    assert open_dataset(target, out, sources["coco"][1] if target == "coco" else None).category_names() == \
        ["square", "bar", "bird"]


def test_a_mistyped_path_is_said_to_be_missing_not_of_an_unknown_format(tmp_path) -> None:
    with pytest.raises(InputError, match=r"nope does not exist; check the path"):
        detect(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="cannot tell the dataset format"):
        detect(tmp_path / "empty")


def test_big_layout_is_detected_read_and_written_with_copies_of_its_photos(tmp_path) -> None:
    src = tmp_path / "big"
    src.mkdir()
    write_photo(src / "cat_im.jpg", 0)
    seg = objects_of(0)[0][1]
    Image.fromarray(np.where(seg, 255, 0).astype(np.uint8)).save(src / "cat_seg.png")
    Image.fromarray(np.where(seg, 200, 0).astype(np.uint8)).save(src / "cat_gt.png")
    assert detect(src) == "big"
    ds = open_dataset("big", src)
    item = ds.read("cat")
    assert item.size == (W, H) and np.array_equal(item.objects[0].raster(item.hw), seg)
    list(convert(ds, "big", tmp_path / "out"))
    out = tmp_path / "out"
    assert (out / "cat_im.jpg").read_bytes() == (src / "cat_im.jpg").read_bytes()
    assert (out / "cat_gt.png").read_bytes() == (src / "cat_gt.png").read_bytes()
    assert not (out / "cat_im.jpg").samefile(src / "cat_im.jpg")  # a copy: an edit in place keeps the original
    assert detect(out) == "big" and np.array_equal(open_dataset("big", out).read("cat").objects[0].mask, seg)
    with pytest.raises(InputError, match="is the input"):
        list(convert(ds, "voc", src))


def test_photos_with_the_same_name_in_two_folders_are_refused_before_writing(sources, tmp_path) -> None:
    coco = json.loads(sources["coco"][0].read_text())
    coco["images"][1]["file_name"] = "other/p0.jpg"
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(coco))
    with pytest.raises(InputError, match="appear twice"):
        next(convert(open_dataset("coco", path, sources["coco"][1]), "yolo", tmp_path / "y"))
    assert not (tmp_path / "y").exists()


def test_stopping_a_conversion_keeps_what_was_written_and_resume_goes_on(sources, tmp_path) -> None:
    """The app cancels by no longer asking for photos: the COCO file still holds the photos already done."""
    voc = open_dataset("voc", sources["voc"][0])
    out = tmp_path / "c.json"
    refine = lambda item: item  # noqa: E731 - stands for the refinement: the photos it writes are worked on
    run = convert(voc, "coco", out, transform=refine)
    assert next(run).written == 3
    run.close()
    assert [r["file_name"].rsplit("/", 1)[-1] for r in json.loads(out.read_text())["images"]] == ["p0.jpg"]
    done = list(convert(voc, "coco", out, transform=refine, resume=True))
    assert [(d.resumed, d.written) for d in done] == [(True, 0), (False, 3)]
    data = json.loads(out.read_text())
    assert len(data["images"]) == 2 and len({a["id"] for a in data["annotations"]}) == 6
    again = list(convert(voc, "coco", tmp_path / "plain.json"))  # converted as they were: nothing is done yet
    assert json.loads((tmp_path / "plain.json").read_text())["crm_refined"] == [] and len(again) == 2


@pytest.mark.parametrize("target", ("labelme", "yolo", "voc"))
def test_a_folder_cut_short_says_so_until_a_run_into_it_ends_whole(sources, tmp_path, target) -> None:
    """An export killed halfway left a folder that looked whole, its last photos' labels missing (a tester): a
    folder being written holds NOT-FINISHED.md, saying how to finish it, until a run ends with every photo in;
    the folder reads as a dataset all the while."""
    from crm_core.formats.base import UNFINISHED_FILE
    voc = open_dataset("voc", sources["voc"][0])
    out = tmp_path / target
    run = convert(voc, target, out)
    next(run)
    note = out / UNFINISHED_FILE
    assert note.is_file() and "--resume" in note.read_text() and "Export dataset" in note.read_text()
    run.close()  # stopped (the app's cancel, a Ctrl+C): still marked
    assert note.is_file()
    assert open_dataset(target, out).names()  # the part written reads, the note not taken for a label file

    def broken(item):
        if item.name.endswith("p1"):
            raise RuntimeError("disk gone")
        return item
    with pytest.raises(RuntimeError):
        list(convert(voc, target, out, transform=broken))
    assert note.is_file()
    assert [d.resumed for d in convert(voc, target, out, transform=lambda i: i, resume=True)] == [True, False]
    assert not note.exists()
    assert sorted(shapes(target, out, None)) == ["p0", "p1"]


@pytest.mark.parametrize("target", ("coco", "labelme", "voc", "yolo"))
@pytest.mark.parametrize("source", ("coco", "labelme"))
def test_the_review_marks_given_go_with_the_copy_and_a_copy_made_without_them_loses_them(source, target, sources,
                                                                                         tmp_path) -> None:
    """An export opened on another computer showed the photos the person had accepted or flagged as only refined:
    the copy carries each photo's mark (a COCO file inside itself, a folder in its review file), in its own format
    and in another; written again with no marks, it carries none (an old mark would speak for a photo unmarked)."""
    path, images = sources[source]
    dataset = open_dataset(source, path, images if source == "coco" else None)
    first, second = dataset.names()
    out = tmp_path / ("out.json" if target == "coco" else "out")
    given = {first: "flagged", second: "accepted"}
    list(convert(dataset, target, out, marked=given.get))
    again = open_dataset(target, out, images if target in ("coco", "yolo") else None)
    assert list(again.marked_before().values()) == ["flagged", "accepted"]
    assert [Path(n).stem for n in again.marked_before()] == [Path(first).stem, Path(second).stem]
    list(convert(dataset, target, out, marked={first: "accepted", second: "done?"}.get))  # not a mark: not kept
    assert list(open_dataset(target, out, images if target in ("coco", "yolo") else None).marked_before().values()) \
        == ["accepted"]
    list(convert(dataset, target, out))
    assert open_dataset(target, out, images if target in ("coco", "yolo") else None).marked_before() == {}


@pytest.mark.parametrize("source", ("coco", "labelme"))
def test_a_labelme_copy_shows_each_review_mark_as_a_ticked_labelme_flag(source, sources, tmp_path) -> None:
    """An annotator who opened the export in LabelMe saw no sign of the photos accepted or flagged: the mark is a
    flag of the photo there, beside the file's own flags; taken back, it is unticked."""
    path, images = sources[source]
    dataset = open_dataset(source, path, images if source == "coco" else None)
    first, second = dataset.names()
    out = tmp_path / "out"

    def flags() -> list[dict]:
        return [json.loads((out / f"{Path(name).stem}.json").read_text())["flags"] for name in (first, second)]

    list(convert(dataset, "labelme", out, marked={first: "flagged"}.get))
    assert flags() == [{"accepted": False, "flagged": True}, {}]  # an unmarked photo gets no flags of ours
    copy = open_dataset("labelme", out)
    list(convert(copy, "labelme", tmp_path / "again", marked={copy.names()[0]: "accepted"}.get))
    again = json.loads((tmp_path / "again" / f"{Path(first).stem}.json").read_text())["flags"]
    assert again == {"accepted": True, "flagged": False}  # the copy's flag changed with the mark, not carried
    list(convert(open_dataset("labelme", out), "labelme", tmp_path / "unmarked"))
    assert json.loads((tmp_path / "unmarked" / f"{Path(first).stem}.json").read_text())["flags"] == \
        {"accepted": False, "flagged": False}
