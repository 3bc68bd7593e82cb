"""Photos and masks load the way a user expects, bad files fail with one line naming them, writes are safe."""

from __future__ import annotations

import io as stdio
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from crm_core import io
from crm_core.errors import InputError


def rgb_ramp(h: int = 40, w: int = 60) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.dstack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 90)]).astype(np.uint8)


# ---- photos that must load ---------------------------------------------------------------------


def test_jpeg_png_webp_bmp_load_as_rgb_uint8(tmp_path: Path) -> None:
    ramp = rgb_ramp()
    for ext in ("jpg", "png", "webp", "bmp"):
        Image.fromarray(ramp).save(tmp_path / f"p.{ext}", **({"lossless": True} if ext == "webp" else {}))
        got = io.load_image(tmp_path / f"p.{ext}")
        assert got.dtype == np.uint8 and got.shape == (40, 60, 3)
        assert np.abs(got.astype(int) - ramp).mean() < 3, ext


def test_16bit_tiff_scales_to_8bit(tmp_path: Path) -> None:
    pixels = np.zeros((20, 30, 3), np.uint16)
    pixels[..., 0] = 65535
    pixels[..., 1] = 257 * 100
    cv2.imwrite(str(tmp_path / "deep.tif"), pixels[:, :, ::-1])  # OpenCV writes BGR
    got = io.load_image(tmp_path / "deep.tif")
    assert got.shape == (20, 30, 3) and got.dtype == np.uint8
    assert got[0, 0].tolist() == [255, 100, 0]


def test_16bit_grey_png_scales_to_8bit(tmp_path: Path) -> None:
    grey = np.full((16, 16), 257 * 200, np.uint16)
    cv2.imwrite(str(tmp_path / "g16.png"), grey)
    assert io.load_image(tmp_path / "g16.png")[0, 0].tolist() == [200, 200, 200]


def test_an_rgba_photo_gives_its_colours_and_its_transparency_apart(tmp_path: Path) -> None:
    """Its alpha was dropped without a word, and a cutout brought its transparent background back; it is now the
    photo's own coarse mask where it holds one (some pixels transparent, some opaque)."""
    ramp = rgb_ramp()
    alpha = np.zeros(ramp.shape[:2], np.uint8)
    Image.fromarray(np.dstack([ramp, alpha]), "RGBA").save(tmp_path / "a.png")
    assert np.array_equal(io.load_image(tmp_path / "a.png"), ramp)
    assert io.photo_alpha(tmp_path / "a.png") is None  # wholly transparent: no subject in it
    alpha[10:30, 5:25] = 255
    alpha[10:30, 25:28] = 128
    Image.fromarray(np.dstack([ramp, alpha]), "RGBA").save(tmp_path / "b.png")
    assert np.array_equal(io.load_image(tmp_path / "b.png"), ramp)
    assert np.allclose(io.photo_alpha(tmp_path / "b.png"), alpha / 255.0)
    Image.fromarray(np.dstack([ramp, np.full_like(alpha, 255)]), "RGBA").save(tmp_path / "c.png")
    Image.fromarray(ramp).save(tmp_path / "d.png")
    assert io.photo_alpha(tmp_path / "c.png") is None and io.photo_alpha(tmp_path / "d.png") is None


def test_palette_and_grey_png_become_rgb(tmp_path: Path) -> None:
    Image.fromarray(rgb_ramp()).convert("P", palette=Image.Palette.ADAPTIVE, colors=8).save(tmp_path / "p.png")
    Image.fromarray(rgb_ramp()[:, :, 0]).save(tmp_path / "g.png")
    assert io.load_image(tmp_path / "p.png").shape == (40, 60, 3)
    grey = io.load_image(tmp_path / "g.png")
    assert np.array_equal(grey[:, :, 0], grey[:, :, 2])


def test_cmyk_jpeg_keeps_its_colours(tmp_path: Path) -> None:
    orange = np.zeros((24, 24, 3), np.uint8) + np.array([230, 120, 30], np.uint8)
    Image.fromarray(orange).convert("CMYK").save(tmp_path / "c.jpg", quality=95)
    got = io.load_image(tmp_path / "c.jpg")
    assert np.abs(got.astype(int) - orange).max() < 12


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:8, :8] = [255, 0, 0]  # red marker at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    Image.fromarray(stored).save(tmp_path / "r.jpg", exif=exif, quality=95)
    got = io.load_image(tmp_path / "r.jpg")
    assert got.shape == (60, 40, 3)
    assert got[2, -3, 0] > 200 and got[-3, 2, 0] < 50  # the marker is now top-right


# ---- photos that must be refused with one line naming the file ----------------------------------


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert "nope.jpg does not exist" in refused(io.load_image, tmp_path / "nope.jpg")


def test_folder_is_not_an_image(tmp_path: Path) -> None:
    assert "is a folder" in refused(io.load_image, tmp_path)


def test_text_file_named_png(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("this is not a picture\n")
    message = refused(io.load_image, tmp_path / "notes.png")
    assert "notes.png is not an image" in message and "PNG" in message
    assert message.count("notes.png") == 1  # the library's reason does not repeat the path
    assert "in no image format known here" in message and "cannot identify" not in message
    (tmp_path / "empty.jpg").write_bytes(b"")  # a download that never arrived: said so, not "no format known"
    assert "empty.jpg is not an image this program can read (the file is empty: 0 bytes)" in \
        refused(io.load_image, tmp_path / "empty.jpg")


def test_truncated_jpeg_is_an_error_not_a_grey_half(tmp_path: Path) -> None:
    buffer = stdio.BytesIO()
    Image.fromarray(rgb_ramp(200, 200)).save(buffer, "JPEG", quality=95)
    (tmp_path / "cut.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    message = refused(io.load_image, tmp_path / "cut.jpg")
    assert "cut.jpg is truncated: the file ends before its image does" in message
    assert "bytes not processed" not in message  # Pillow's count is of its last read, not of what is missing
    (tmp_path / "head.jpg").write_bytes(buffer.getvalue()[:200])  # cut inside its header: not "(Truncated File Read)"
    assert "head.jpg is truncated: the file ends inside its header" in refused(io.load_image, tmp_path / "head.jpg")


def test_tiny_image_names_the_minimum(tmp_path: Path) -> None:
    Image.new("RGB", (1, 1)).save(tmp_path / "dot.png")
    message = refused(io.load_image, tmp_path / "dot.png")
    assert "dot.png is 1x1 px" in message and "8x8" in message


def test_pixel_cap_checked_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.fromarray(rgb_ramp()).save(tmp_path / "big.png")
    assert "over the limit of 1,000 pixels" in refused(io.load_image, tmp_path / "big.png", max_pixels=1000)
    monkeypatch.setenv("CRM_MAX_PIXELS", "2000")
    assert "big.png is 60x40 px" in refused(io.load_image, tmp_path / "big.png")
    monkeypatch.setenv("CRM_MAX_PIXELS", "2400")
    assert io.load_image(tmp_path / "big.png").shape == (40, 60, 3)


# ---- masks --------------------------------------------------------------------------------------


def test_grey_and_16bit_masks_are_unit_floats(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 51, 255]] * 8, np.uint8).repeat(4, axis=1)).save(tmp_path / "g.png")
    m = io.load_mask(tmp_path / "g.png")
    assert m.dtype == np.float32 and m.shape == (8, 12)
    assert m[0, [0, 4, 8]] == pytest.approx([0.0, 0.2, 1.0])
    cv2.imwrite(str(tmp_path / "g16.png"), np.full((8, 8), 65535 // 4, np.uint16))
    assert io.load_mask(tmp_path / "g16.png")[0, 0] == pytest.approx(0.25, abs=1e-4)


def test_rgba_mask_uses_alpha_unless_opaque(tmp_path: Path) -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[:, :4, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    assert io.load_mask(tmp_path / "cut.png")[:, :4].max() == 0 and io.load_mask(tmp_path / "cut.png")[:, 4:].min() == 1
    rgba[..., 3] = 255
    rgba[:, 6:, :3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "opaque.png")
    m = io.load_mask(tmp_path / "opaque.png")
    assert m[:, 6:].min() == 1 and m[:, :6].max() == 0


def test_a_palette_mask_is_read_by_its_indices_not_its_colours(tmp_path: Path) -> None:
    """DAVIS and label tools save object 1 as dark red (128, 0, 0): read by colour it came in at half strength
    (0.502, a faint, unsure mask), and VOC's white void band (255) as foreground."""
    labels = np.zeros((8, 8), np.uint8)
    labels[2:6, 2:6] = 1
    davis = Image.fromarray(labels, "P")
    davis.putpalette([0, 0, 0, 128, 0, 0] + [0, 0, 0] * 254)
    davis.save(tmp_path / "davis.png")
    read = io.read_mask(tmp_path / "davis.png")
    assert np.array_equal(read.prob, labels.astype(np.float32)) and "only the values 0 and 1" in read.notes[0]
    voc = labels * 15
    voc[1, 1:7] = 255  # the void outline
    im = Image.fromarray(voc, "P")
    im.putpalette([0, 0, 0] * 15 + [192, 128, 128] + [0, 0, 0] * 239 + [224, 224, 192])
    im.save(tmp_path / "voc.png")
    read = io.read_mask(tmp_path / "voc.png")
    assert read.prob[3, 3] == 1 and read.prob[1, 3] == 0.5 and read.prob[7, 7] == 0
    assert "palette label map" in read.notes[0] and "15 as the object" in read.notes[0]
    grey = Image.fromarray(labels * 255).convert("P")  # a grey mask that happens to be stored with a palette
    grey.save(tmp_path / "grey.png")
    assert np.array_equal(io.read_mask(tmp_path / "grey.png").prob, labels.astype(np.float32))


def test_label_masks_pick_one_class(tmp_path: Path) -> None:
    labels = np.zeros((8, 8), np.uint8)
    labels[2:4, 2:4] = 3
    labels[5:, 5:] = 7
    im = Image.fromarray(labels, "P")
    im.putpalette([0, 0, 0] * 3 + [200, 10, 10] + [0, 0, 0] * 3 + [10, 200, 10] + [0, 0, 0] * 248)
    im.save(tmp_path / "labels.png")
    assert io.load_mask(tmp_path / "labels.png", label=3).sum() == 4
    assert io.load_mask(tmp_path / "labels.png", label=(10, 200, 10)).sum() == 9
    assert "no pixel of label 5" in refused(io.load_mask, tmp_path / "labels.png", label=5)


def test_mask_of_another_size(tmp_path: Path) -> None:
    Image.new("L", (64, 48)).save(tmp_path / "m.png")
    message = refused(io.load_mask, tmp_path / "m.png", shape=(60, 80))
    assert "m.png is 64x48 px but the photo is 80x60 px" in message
    stretched = io.read_mask(tmp_path / "m.png", shape=(60, 80), resize=True)
    assert stretched.prob.shape == (60, 80)
    assert stretched.notes == (f"{tmp_path / 'm.png'} is 64x48 px: stretched to the photo's 80x60 px",)  # said
    assert "made for another photo or a crop" in refused(io.load_mask, tmp_path / "m.png", shape=(64, 64), resize=True)
    # a phone photo shown upright by its EXIF orientation, the mask made on it as stored: said, not "resize it"
    turned = refused(io.load_mask, tmp_path / "m.png", shape=(64, 48), resize=True)
    assert "turned by 90°: turn the mask to match the photo" in turned and "EXIF orientation" in turned


# ---- writing ------------------------------------------------------------------------------------


def ramp_prob() -> np.ndarray:
    return np.tile(np.linspace(0, 1, 32, dtype=np.float32), (16, 1))


def test_save_mask_alpha_roundtrip(tmp_path: Path) -> None:
    prob = ramp_prob()
    io.save_mask(tmp_path / "new" / "m.png", prob)
    assert set(np.unique(np.asarray(Image.open(tmp_path / "new" / "m.png")))) == {0, 255}
    io.save_alpha(tmp_path / "a8.png", prob)
    io.save_alpha(tmp_path / "a16.png", prob, bits=16)
    assert np.abs(io.load_mask(tmp_path / "a8.png") - prob).max() <= 0.5 / 255 + 1e-6
    assert np.abs(io.load_mask(tmp_path / "a16.png") - prob).max() <= 0.5 / 65535 + 1e-6
    assert cv2.imread(str(tmp_path / "a16.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16


def test_save_cutout_is_rgba_with_prob_as_alpha(tmp_path: Path) -> None:
    image = rgb_ramp(16, 32)
    io.save_cutout(tmp_path / "c.png", image, ramp_prob())
    rgba = np.asarray(Image.open(tmp_path / "c.png"))
    assert rgba.shape == (16, 32, 4)
    alpha = np.rint(ramp_prob() * 255).astype(np.uint8)
    assert np.array_equal(rgba[..., 3], alpha)
    assert np.array_equal(rgba[alpha > 0, :3], image[alpha > 0])  # the photo where anything shows
    assert not rgba[alpha == 0, :3].any()  # none of the background cut away is carried in the file


@pytest.mark.parametrize("name", ["f.png", "f.jpg"])
def test_a_cutout_on_a_colour_is_the_photo_blended_over_that_colour_by_its_alpha(tmp_path: Path, name: str) -> None:
    """A product shot on white (remove.bg's export): the object, its soft edge blended into the colour."""
    image = rgb_ramp(16, 32)
    prob = ramp_prob()
    io.save_flat(tmp_path / name, image, prob, (255, 255, 255))
    flat = np.asarray(Image.open(tmp_path / name).convert("RGB")).astype(float)
    want = image * prob[..., None] + 255.0 * (1 - prob[..., None])
    assert np.abs(flat - want).max() <= (1 if name.endswith(".png") else 12)  # JPEG: its quantisation
    with pytest.raises(InputError, match=r"must end in \.png or \.jpg or \.jpeg"):
        io.save_flat(tmp_path / "f.tif", image, prob, (0, 0, 0))


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_a_sixteen_bit_photo_s_cutout_is_sixteen_bit_with_its_own_colours(tmp_path: Path, suffix: str) -> None:
    """A 16-bit photo's cutout was written at 8 bits without a word, banding a 16-bit workflow's gradients."""
    deep = (np.random.default_rng(3).integers(0, 65536, (16, 32, 3))).astype(np.uint16)
    photo = tmp_path / f"deep{suffix}"
    cv2.imwrite(str(photo), deep[:, :, ::-1])
    image = io.load_image(photo)
    assert np.array_equal(image, deep >> 8)  # what the model and the canvas see
    read = io.deep_photo(photo, image.shape)
    assert read is not None and np.array_equal(read, deep)
    io.save_cutout(tmp_path / "c.png", read, ramp_prob(), decontaminate=True)
    rgba = cv2.imread(str(tmp_path / "c.png"), cv2.IMREAD_UNCHANGED)
    alpha = np.rint(ramp_prob() * 65535).astype(np.uint16)
    assert rgba.dtype == np.uint16 and np.array_equal(rgba[..., 3], alpha)
    assert np.array_equal(rgba[alpha == 65535, 2::-1], deep[alpha == 65535])  # opaque: the photo's own 16 bits
    Image.fromarray(image).save(tmp_path / "plain.png")
    assert io.deep_photo(tmp_path / "plain.png", image.shape) is None  # 8 bits: the cutout stays 8-bit
    assert io.deep_photo(photo, (8, 8, 3)) is None  # not the photo refined


@pytest.mark.parametrize("name", ["f.png", "f.jpg"])
def test_a_sixteen_bit_photo_on_a_colour_keeps_that_colour(tmp_path: Path, name: str) -> None:
    """The colour is given in 8 bits: a 16-bit PNG scales it to 16 (an orange backdrop came out near black there
    when the scaling was lost), and a JPEG, 8 bits only, writes the photo's top byte."""
    deep = rgb_ramp(16, 32).astype(np.uint16) * 257  # smooth, for JPEG to be judged fairly
    prob = ramp_prob()
    io.save_flat(tmp_path / name, deep, prob, (255, 128, 0))
    flat = cv2.imread(str(tmp_path / name), cv2.IMREAD_UNCHANGED)[:, :, ::-1].astype(float)
    scale = 257.0 if name.endswith(".png") else 1.0
    assert flat.max() > 255 if name.endswith(".png") else flat.max() <= 255
    want = deep / (257.0 / scale) * prob[..., None] + np.array([255, 128, 0]) * scale * (1 - prob[..., None])
    assert np.abs(flat - want).max() <= (scale if name.endswith(".png") else 12)

@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_sixteen_bit_photo_is_turned_upright_as_an_eight_bit_one(orientation: int) -> None:
    from PIL import ImageOps
    pixels = rgb_ramp(6, 10)
    photo = Image.fromarray(pixels)
    photo.getexif()[io.EXIF_ORIENTATION] = orientation
    assert np.array_equal(io._upright(pixels, orientation), np.asarray(ImageOps.exif_transpose(photo)))


def test_a_cutout_carries_the_photo_s_colour_profile(tmp_path: Path) -> None:
    """Written without it, an Adobe RGB photo's cutout was read as sRGB by colour-managed programs: duller."""
    from PIL import ImageCms
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = rgb_ramp(16, 32)
    Image.fromarray(image).save(tmp_path / "photo.jpg", quality=95, icc_profile=profile)
    Image.fromarray(image).save(tmp_path / "plain.png")
    assert io.colour_profile(tmp_path / "photo.jpg") == profile and io.colour_profile(tmp_path / "plain.png") is None
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    Image.fromarray(image).save(tmp_path / "lab.jpg", quality=95, icc_profile=lab)
    assert io.colour_profile(tmp_path / "lab.jpg") is None  # not an RGB profile: it would mislabel an RGB cutout
    io.save_cutout(tmp_path / "c.png", image, ramp_prob(), profile=io.colour_profile(tmp_path / "photo.jpg"))
    io.save_cutout(tmp_path / "p.png", image, ramp_prob())
    with Image.open(tmp_path / "c.png") as written, Image.open(tmp_path / "p.png") as plain:
        assert written.info.get("icc_profile") == profile and "icc_profile" not in plain.info
        assert np.array_equal(np.asarray(written), np.asarray(plain))  # the same pixels, only labelled
    with Image.open(tmp_path / "c.png") as written:
        written.verify()  # every chunk's CRC checks out (the profile's chunk is spliced into OpenCV's PNG)
    assert np.array_equal(cv2.imread(str(tmp_path / "c.png"), cv2.IMREAD_UNCHANGED),
                          cv2.imread(str(tmp_path / "p.png"), cv2.IMREAD_UNCHANGED))


def test_decontaminate_removes_background_colour_from_soft_edges(tmp_path: Path) -> None:
    alpha = np.zeros((64, 64), np.float32)
    cv2.circle(alpha, (32, 32), 18, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 2.0)
    red, blue = np.array([220, 20, 20], np.float32), np.array([20, 20, 220], np.float32)
    image = np.rint(alpha[..., None] * red + (1 - alpha[..., None]) * blue).astype(np.uint8)
    io.save_cutout(tmp_path / "d.png", image, alpha, decontaminate=True)
    rgba = np.asarray(Image.open(tmp_path / "d.png")).astype(int)
    edge = (alpha > 0.2) & (alpha < 0.8)
    assert rgba[..., 2][edge].mean() < image[..., 2][edge].mean() - 40  # much less blue bleeding through
    assert rgba[..., 0][edge].mean() > image[..., 0][edge].mean() + 40
    opaque = alpha > 0.999
    assert np.array_equal(rgba[..., :3][opaque], image[opaque])


def test_output_must_be_png(tmp_path: Path) -> None:
    assert "must end in .png" in refused(io.save_mask, tmp_path / "out.jpg", ramp_prob())


def test_never_overwrites_a_protected_input(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(rgb_ramp(16, 32)).save(photo)
    before = photo.read_bytes()
    assert "is the input file" in refused(io.save_mask, photo, ramp_prob(), protect=[photo])
    (tmp_path / "link.png").hardlink_to(photo)
    assert "is the input file" in refused(io.save_alpha, tmp_path / "link.png", ramp_prob(), protect=[photo])
    assert "is the input file" in refused(io.save_mask, tmp_path / "sub" / ".." / "photo.png", ramp_prob(), protect=[photo])
    assert photo.read_bytes() == before


def test_a_copied_input_is_a_copy_an_edit_in_place_does_not_reach(tmp_path: Path) -> None:
    """Exported photos were hard links: a tool saving the exported photo in place changed the person's original."""
    photo = tmp_path / "photo.jpg"
    Image.fromarray(rgb_ramp(16, 32)).save(photo)
    before = photo.read_bytes()
    copy = io.copy_input(photo, tmp_path / "out" / "images" / "photo.jpg")
    assert copy.read_bytes() == before and copy.stat().st_nlink == 1
    with open(copy, "r+b") as fh:  # an editor that writes in place
        fh.write(b"edited")
    assert photo.read_bytes() == before
    assert io.copy_input(photo, copy).read_bytes().startswith(b"edited")  # a rerun rewrites nothing
    assert sorted(p.name for p in copy.parent.iterdir()) == ["photo.jpg"]  # no temp file left behind
    assert "does not exist" in refused(io.copy_input, tmp_path / "gone.jpg", tmp_path / "out" / "gone.jpg")


def test_writes_are_atomic_and_unwritable_places_are_clear_errors(tmp_path: Path) -> None:
    io.save_mask(tmp_path / "m.png", ramp_prob())
    io.save_mask(tmp_path / "m.png", 1 - ramp_prob())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png"]  # no temp file left behind
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "m.png").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
    (tmp_path / "file.txt").write_text("x")
    message = refused(io.save_mask, tmp_path / "file.txt" / "m.png", ramp_prob())
    assert "cannot write" in message and "m.png" in message
    (tmp_path / "dir.png").mkdir()
    assert "is a folder" in refused(io.save_mask, tmp_path / "dir.png", ramp_prob())


def test_a_refused_write_names_the_file_asked_for_not_its_temporary_file(tmp_path, monkeypatch) -> None:
    """A read-only folder's refusal read "([Errno 1] Operation not permitted: '/ro/.photo.jpg.qx2g6gkf.tmp')"
    (a tester): the temporary file's name means nothing to the person."""
    def refuse(*_args, dir, **_kwargs):
        name = os.path.join(dir, ".m.png.qx2g6gkf.tmp")
        raise PermissionError(1, "Operation not permitted", name)

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    message = refused(io.write_atomic, tmp_path / "m.png", b"bytes")
    assert message == f"cannot write {tmp_path / 'm.png'} (Operation not permitted); choose a folder you can write to"


def test_a_long_legal_name_is_written_and_a_name_too_long_says_so(tmp_path: Path) -> None:
    """A 242-byte name (130 Cyrillic letters) failed as "File name too long", naming the temp file, and advised
    another folder."""
    for name in ("ф" * 125 + ".png", "a" * 251 + ".png"):  # 254 and 255 bytes: legal names
        io.save_mask(tmp_path / name, ramp_prob())
        assert (tmp_path / name).is_file()
    assert len(list(tmp_path.iterdir())) == 2  # no temp file left behind
    message = refused(io.save_mask, tmp_path / ("a" * 300 + ".png"), ramp_prob())
    assert message.endswith("choose a shorter name")


def _noise(seed: int, h: int = 64, w: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8), rng.random((h, w), dtype=np.float32)


SAVES = {
    "mask": lambda path, image, prob: io.save_mask(path, prob),
    "alpha": lambda path, image, prob: io.save_alpha(path, prob, bits=16),
    "cutout": lambda path, image, prob: io.save_cutout(path, image, prob),
}


@pytest.mark.parametrize("kind", sorted(SAVES))
@pytest.mark.parametrize("failure", ["disk full", "rename fails"])
def test_a_failed_write_keeps_the_previous_file_whole_and_leaves_no_temp(tmp_path, kind, failure, full_disk,
                                                                          failing_rename):
    """A full disk or a failing rename while overwriting a result leaves the previous result, byte for byte,
    no temp file, and one clear error."""
    target = tmp_path / "out" / f"{kind}.png"
    SAVES[kind](target, *_noise(0))
    before = target.read_bytes()
    assert len(before) > 512  # so the full disk strikes in the middle of the new file
    new = _noise(1)
    if failure == "disk full":
        with full_disk(256):
            message = refused(SAVES[kind], target, *new)
    else:
        failing_rename()
        message = refused(SAVES[kind], target, *new)
    assert "cannot write" in message and target.name in message
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == [target.name]
