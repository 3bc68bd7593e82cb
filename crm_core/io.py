"""Reading photos and masks, writing results: every way a file can be wrong becomes one InputError line.

Decoding goes through Pillow (broadest format coverage, EXIF orientation); encoding through OpenCV's PNG
writer (fast on 6K masks). All writes are atomic so a crash never leaves a half-written file behind.
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
import stat
import struct
import tempfile
import time
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Sequence

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps

from crm_core.errors import DiskFull, InputError
from crm_core.wording import listed

try:
    import fcntl
except ImportError:  # Windows: copies are plain copies
    fcntl = None

try:  # iPhone photos: read when the optional pillow-heif is installed (pip install -e ".[heic]")
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIC_SUFFIXES: tuple[str, ...] = (".heic", ".heif")
    FORMATS = "JPEG, PNG, TIFF, WebP, BMP or HEIC"
except ImportError:
    HEIC_SUFFIXES = ()
    FORMATS = "JPEG, PNG, TIFF, WebP or BMP"

DEFAULT_MAX_PIXELS = 200_000_000
MIN_SIDE = 8
# bytes: a write that failed with less room than this left beside it failed for want of room (``write_failed``)
NEARLY_FULL = 64 << 20
EXIF_ORIENTATION = 0x0112  # the EXIF tag that says how a photo is turned to be shown
TIFF_BITS_PER_SAMPLE = 258  # the TIFF tag that says how many bits each colour channel has
PathLike = str | os.PathLike
FICLONE = 0x40049409  # Linux's ioctl that makes a copy-on-write clone of a whole file (linux/fs.h)
COPY_CHUNK = 1 << 20  # bytes a plain copy moves at a time

# We check the pixel count ourselves, before decoding and with a clearer message, so Pillow's own
# decompression-bomb warning/exception is switched off; truncated files must fail, never decode grey.
Image.MAX_IMAGE_PIXELS = None
ImageFile.LOAD_TRUNCATED_IMAGES = False

_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")

# mkstemp creates 0600 files; outputs get the permissions a plain open() would give. Read once, at import,
# because os.umask can only be read by setting it.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def max_pixels_default() -> int:
    """The pixel cap: CRM_MAX_PIXELS when set (lets tests and small machines lower it), else 200 MP."""
    value = os.environ.get("CRM_MAX_PIXELS", "")
    try:
        cap = int(value) if value else DEFAULT_MAX_PIXELS
    except ValueError:
        cap = 0
    if cap <= 0:
        raise InputError(f"CRM_MAX_PIXELS={value!r} is not a positive whole number of pixels; unset it or give e.g. 50000000")
    return cap


def check_regular(path: PathLike, what: str = "an image file") -> Path:
    """Refuse at once what cannot be read as a file: a missing path, a folder, or a named pipe or device, whose
    read would block forever (a FIFO) or never end (/dev/zero)."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{p} does not exist; check the path") from None
    except OSError as err:
        raise InputError(f"{p} cannot be read ({_reason(err)}); check the path and its permissions") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{p} is a folder, not {what}")
    if not stat.S_ISREG(mode):
        kind = "a named pipe" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"
        raise InputError(f"{p} is {kind}, not {what}; save the data to a file and pass that")
    return p


def _open(path: PathLike, max_pixels: int | None) -> Image.Image:
    """Open, size-check from the header, decode fully and undo EXIF rotation; every failure names the file."""
    p = check_regular(path)
    cap = max_pixels_default() if max_pixels is None else max_pixels
    if cap <= 0:
        raise InputError(f"the pixel limit must be a positive number of pixels; got {cap}")
    try:
        im = Image.open(p)
    except (OSError, SyntaxError, ValueError) as err:
        reason = _reason(err, p)
        if reason.startswith("cannot identify image file"):  # Pillow's words for "no decoder knows these bytes"
            reason = "the file is empty: 0 bytes" if p.stat().st_size == 0 else \
                "its content is in no image format known here, whatever its name says"
        elif reason.startswith("Truncated File Read"):  # cut inside its header: "(Truncated File Read)" said nothing
            raise InputError(f"{p} is truncated: the file ends inside its header; export or download it again") \
                from None
        raise InputError(f"{p} is not an image this program can read ({reason}); use a {FORMATS} file") from None
    w, h = im.size
    if w * h > cap:
        im.close()
        raise InputError(f"{p} is {w}x{h} px ({w * h:,} pixels), over the limit of {cap:,} pixels; downscale it first")
    try:
        im.load()
        ImageOps.exif_transpose(im, in_place=True)
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        reason = _reason(err, p)
        if reason.startswith("image file is truncated"):  # Pillow's byte count is of its last read, not the loss
            raise InputError(f"{p} is truncated: the file ends before its image does; export or download it "
                             "again") from None
        raise InputError(f"{p} is truncated or corrupt ({reason}); export or download it again") from None
    if min(im.size) < MIN_SIDE:
        raise InputError(f"{p} is {im.width}x{im.height} px; the minimum is {MIN_SIDE}x{MIN_SIDE} px")
    return im


def _reason(err: BaseException, path: PathLike | None = None) -> str:
    """The library's reason, on one line and without the path the sentence already starts with."""
    text = " ".join(str(err).split())
    if path is not None:
        text = text.replace(f"'{path}'", "").replace(str(path), "").strip(" :")
    return text or type(err).__name__


def _sixteen_to_unit(im: Image.Image) -> np.ndarray:
    """16-bit (or Pillow's 32-bit integer) grey as 0..1, the full 16-bit range mapping to 0..1."""
    return np.clip(np.asarray(im, dtype=np.float64) / 65535.0, 0.0, 1.0)


def shown_size(photo: PathLike) -> tuple[int, int]:
    """(width, height) of a photo as ``load_image`` turns it (EXIF orientation), read from its header alone: a
    folder lists thousands of photos without decoding one."""
    try:
        with Image.open(photo) as im:
            w, h = im.size
            turned = _turned(im)
    except (OSError, SyntaxError, ValueError, EOFError):  # what Pillow raises on a file that is no image
        raise InputError(f"{photo} is not a photo this program can read; remove it from the folder") from None
    return (h, w) if turned else (w, h)


def exif_turned(photo: PathLike | None) -> bool:
    """Whether the photo's EXIF orientation turns it by 90° to be shown (False where it cannot be read): an error
    blamed the EXIF orientation of a photo that had none (a tester's label file with width and height swapped)."""
    try:
        with Image.open(photo) as im:
            return _turned(im)
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, AttributeError):
        return False


def _turned(im: Image.Image) -> bool:
    return im.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8)


def load_image(path: PathLike, max_pixels: int | None = None) -> np.ndarray:
    """The photo as H×W×3 uint8 RGB, upright as the camera meant it; its alpha is read by ``photo_alpha``.

    max_pixels: refuse larger images before decoding them (None: CRM_MAX_PIXELS or 200 MP).
    """
    im = _open(path, max_pixels)
    if im.mode in _SIXTEEN_BIT:
        grey = np.rint(_sixteen_to_unit(im) * 255.0).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if im.mode == "F":
        grey = np.asarray(im, dtype=np.float32)
        if not np.isfinite(grey).all():
            raise InputError(f"{path} holds NaN or infinite pixel values; save it as an 8- or 16-bit image")
        scale = 255.0 if float(grey.max(initial=0.0)) <= 1.0 else 1.0
        grey = np.clip(np.rint(grey * scale), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if im.mode in ("P", "PA"):
        im = im.convert("RGBA")
    try:
        rgb = im if im.mode == "RGB" else im.convert("RGB")
    except ValueError:
        raise InputError(f"{path} uses pixel format {im.mode}, which cannot be converted to RGB; save it as RGB") from None
    return np.array(rgb, dtype=np.uint8)


ALPHA_MODES = ("RGBA", "LA", "PA", "La", "RGBa")
SINGLE_CHANNEL_MODES = ("1", "L", "P", "I;16", "I", "LA")


def single_channel(path: PathLike) -> bool:
    """Whether an image file holds one channel (grey, bilevel, 16-bit grey or a palette: how masks are saved),
    read from its header alone; False for a file that is no image (reading it says what is wrong)."""
    try:
        with Image.open(path) as im:
            return im.mode in SINGLE_CHANNEL_MODES
    except (OSError, SyntaxError, ValueError, EOFError):
        return False


def photo_alpha(path: PathLike, max_pixels: int | None = None) -> np.ndarray | None:
    """A photo's own transparency as a coarse mask (H×W float32 0..1, upright as ``load_image`` turns the photo),
    or None when it has none: no alpha channel, every pixel opaque, or none opaque.

    Why: a PNG cut out by another tool (remove.bg, a quick lasso) carries its subject in its alpha; read as RGB
    alone, its transparent background came back whole in the cutout, and nothing said so. With no mask given, the
    alpha is the coarse mask to refine. The header is read first, so an opaque JPEG costs no second decode."""
    try:
        with Image.open(path) as im:
            maybe = im.mode in ALPHA_MODES or (im.mode == "P" and "transparency" in im.info)
    except (OSError, SyntaxError, ValueError, EOFError):
        return None  # load_image says what is wrong with the file
    if not maybe:
        return None
    im = _open(path, max_pixels)
    alpha = np.asarray(im.convert("RGBA").getchannel("A"), dtype=np.float32) / 255.0
    if alpha.min() >= 1.0 or alpha.max() <= 0.5:  # opaque throughout, or nothing left to refine
        return None
    return alpha


@dataclass(frozen=True)
class MaskFile:
    """A coarse mask as read, with one sentence per guess the reader made about an unusual file.

    notes: e.g. a 0/1-valued PNG read as 0/255, or the channel taken from a colour image; a front end shows them,
    so a person whose mask was read differently from what they meant learns it before the result surprises them.
    """

    prob: np.ndarray
    notes: tuple[str, ...] = ()


def read_mask(
    path: PathLike,
    shape: tuple[int, int] | None = None,
    resize: bool = False,
    label: int | Sequence[int] | None = None,
    max_pixels: int | None = None,
    channel: str | None = None,
    threshold: float | None = None,
) -> MaskFile:
    """A coarse mask as H×W float32 in [0, 1], and notes on how an unusual file was read.

    Grey files give value/255 (16-bit: /65535), except files holding only 0 and 1, which are read as
    0/255 (label tools write those); a file with a real alpha channel gives its alpha; a colour image gives
    the channel with the most contrast (a red mask on black reads as its red channel); NaN or infinite
    values in a float file are refused. label picks one class of a label image: a palette index (or grey
    level) or an RGB colour. shape: the photo's (H, W); a mask of another size is refused unless resize is
    True and the aspect ratios agree within 1 %, then it is resized bilinearly.
    channel: "red", "green", "blue" or "alpha" reads that channel instead of guessing (a mask drawn in one colour
    over another). threshold: in (0, 1); foreground is what lies above it, for a faint mask whose brightest
    value is under one half (which would otherwise read as empty).
    """
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise InputError(f"the mask threshold must lie between 0 and 1 (a share of white); got {threshold}")
    im = _open(path, max_pixels)
    notes: list[str] = []
    if channel is not None:
        prob = _channel(path, im, channel)
    else:
        prob = _label_mask(path, im, label) if label is not None else _soft_mask(path, im, notes)
    if threshold is not None:
        prob = (prob > threshold).astype(np.float32)
    if shape is not None:
        prob = _fit(path, prob, shape, resize, notes)
    return MaskFile(np.ascontiguousarray(prob, dtype=np.float32), tuple(notes))


def load_mask(
    path: PathLike,
    shape: tuple[int, int] | None = None,
    resize: bool = False,
    label: int | Sequence[int] | None = None,
    max_pixels: int | None = None,
) -> np.ndarray:
    """``read_mask(...).prob``: the mask alone, for callers that do not show the reading notes."""
    return read_mask(path, shape, resize, label, max_pixels).prob


_CHANNELS = ("red", "green", "blue")


def _soft_mask(path: PathLike, im: Image.Image, notes: list[str]) -> np.ndarray:
    if im.mode == "1":
        return np.asarray(im, dtype=np.float32)
    if im.mode in _SIXTEEN_BIT:
        values = np.asarray(im)
        return _zero_one(path, values, notes) if values.max() == 1 else _sixteen_to_unit(im).astype(np.float32)
    if im.mode == "F":
        values = np.asarray(im, dtype=np.float32)
        if not np.isfinite(values).all():
            bad = int(np.count_nonzero(~np.isfinite(values)))
            raise InputError(f"{path} holds {bad:,} NaN or infinite values; save the mask with values from 0 to 1")
        return np.clip(values, 0.0, 1.0)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        alpha = np.asarray(im.convert("RGBA").getchannel("A"))
        if alpha.min() < 255:
            return alpha.astype(np.float32) / 255.0
    if im.mode == "P" and not _grey_palette(im):
        return _palette_labels(path, np.asarray(im), notes)
    grey = np.asarray(im) if im.mode == "L" else _grey_or_channel(path, im, notes)
    return _zero_one(path, grey, notes) if grey.max() == 1 else grey.astype(np.float32) / 255.0


VOID = 255  # the palette index of VOC's outline band: "not decided" (the label map's own rule)


def _grey_palette(im: Image.Image) -> bool:
    """Whether every palette entry the image uses is a grey: a grey mask merely stored with a palette."""
    used = np.unique(np.asarray(im))
    colours = np.asarray(im.getpalette("RGB") or [], np.uint8).reshape(-1, 3)
    colours = colours[used[used < len(colours)]]
    return bool((colours == colours[:, :1]).all())


def _palette_labels(path: PathLike, indices: np.ndarray, notes: list[str]) -> np.ndarray:
    """A label map with a coloured palette (DAVIS, VOC, label tools) read by its indices, not its colours: index
    0 is background and every other is the object, VOC's void band (255) undecided. Read by colour, DAVIS's
    object 1 (dark red) came in at half strength and VOC's white void band as foreground."""
    labels = [int(v) for v in np.unique(indices) if v not in (0, VOID)]
    prob = np.isin(indices, labels).astype(np.float32)
    if labels == [1] and VOID not in indices:
        return _zero_one(path, indices, notes)
    void = indices == VOID
    if labels:
        prob[void] = 0.5
    else:
        prob = void.astype(np.float32)  # a map of one object drawn in index 255 alone
    said = listed([str(label) for label in labels], 8)
    notes.append(f"{path} is a palette label map; read by its indices: 0 as background, "
                 + (f"{said} as the object" if labels else f"{VOID} as the object")
                 + (f", {VOID} (VOC's void outline) as undecided" if labels and void.any() else "")
                 + ("; save one object alone to refine only it" if len(labels) > 1 else ""))
    return prob


COLOUR_NOTE = "is a colour image, not grey"  # how a mask read from a colour image is noted (crm-refine reads it)


def _grey_or_channel(path: PathLike, im: Image.Image, notes: list[str]) -> np.ndarray:
    """A grey image's level; for a coloured mask (a red subject on black) the channel with the most contrast,
    which luminance would have dimmed below one half and so turned into an empty mask."""
    rgb = np.asarray(im.convert("RGB"))
    if np.array_equal(rgb[:, :, 0], rgb[:, :, 1]) and np.array_equal(rgb[:, :, 1], rgb[:, :, 2]):
        return rgb[:, :, 0]
    spread = [int(rgb[:, :, c].max()) - int(rgb[:, :, c].min()) for c in range(3)]
    pick = int(np.argmax(spread))
    notes.append(f"{path} {COLOUR_NOTE}; its {_CHANNELS[pick]} channel (the one with the most contrast) "
                 "was read as the mask; save the mask as grey (white subject on black) to be sure")
    return rgb[:, :, pick]


MASK_CHANNELS = ("red", "green", "blue", "alpha")


def _channel(path: PathLike, im: Image.Image, channel: str) -> np.ndarray:
    """One named channel of a mask file, value/255."""
    if channel not in MASK_CHANNELS:
        raise InputError(f"mask channel {channel!r} is not one of {', '.join(MASK_CHANNELS)}")
    if channel == "alpha" and not (im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info):
        raise InputError(f"{path} has no alpha channel; pick red, green or blue, or save the mask with transparency")
    rgba = np.asarray(im.convert("RGBA"))
    return rgba[:, :, MASK_CHANNELS.index(channel)].astype(np.float32) / 255.0


def _zero_one(path: PathLike, values: np.ndarray, notes: list[str]) -> np.ndarray:
    notes.append(f"{path} holds only the values 0 and 1; read as 0 = background, 1 = foreground (as if 0 and 255)")
    return values.astype(np.float32)


def _label_mask(path: PathLike, im: Image.Image, label: int | Sequence[int]) -> np.ndarray:
    if isinstance(label, (int, np.integer)):
        if im.mode not in ("P", "L", "1", *_SIXTEEN_BIT):
            raise InputError(f"{path} has no palette or grey levels to pick label {label} from; give its RGB colour instead")
        values = np.asarray(im)
        hit = values == int(label)
        present = np.unique(values)
    else:
        colour = tuple(int(c) for c in label)
        if len(colour) != 3:
            raise InputError(f"label {list(label)} for {path} must be one palette index or an R,G,B colour")
        rgb = np.asarray(im.convert("RGB"))
        hit = np.all(rgb == np.array(colour, dtype=rgb.dtype), axis=2)
        present = np.unique(rgb.reshape(-1, 3), axis=0)
    if not hit.any():
        shown = ", ".join(str(v.tolist()) for v in present[:12]) + (", ..." if len(present) > 12 else "")
        raise InputError(f"{path} holds no pixel of label {label!r}; the labels present are {shown}")
    return hit.astype(np.float32)


def _fit(path: PathLike, prob: np.ndarray, shape: tuple[int, int], resize: bool, notes: list[str]) -> np.ndarray:
    h, w = prob.shape
    height, width = int(shape[0]), int(shape[1])
    if (h, w) == (height, width):
        return prob
    same_aspect = abs(w * height - width * h) <= 0.01 * width * h
    if resize and same_aspect:  # said: a mask at half size came out stretched without a word (a tester)
        notes.append(f"{path} is {w}x{h} px: stretched to the photo's {width}x{height} px")
        return cv2.resize(prob, (width, height), interpolation=cv2.INTER_LINEAR)
    if (h, w) == (width, height):
        hint = ("it is the photo's size turned by 90°: turn the mask to match the photo (a phone photo is shown upright "
                "by its EXIF orientation, and a mask made on it as stored comes out turned)")
    elif same_aspect:
        hint = "export the mask at the photo's size, or let crm-refine resize it (--resize-mask)"  # crm-eval has none
    else:
        hint = ("their aspect ratios differ by more than 1 %, so it was made for another photo or a crop; export the "
                "mask from this photo at its full size")
    raise InputError(f"{path} is {w}x{h} px but the photo is {width}x{height} px; {hint}")


def check_output(path: PathLike, protect: Iterable[PathLike] = (), suffixes: tuple[str, ...] = (".png",)) -> Path:
    """Refuse an output path before any work is spent: not PNG (or another of ``suffixes``), a folder, one of the
    user's inputs, or a place that cannot be written (a read-only folder, /proc, a parent that is a file)."""
    if not str(path).strip():  # Path("") is ".", reported as "output . is a folder"
        raise InputError("the output file name is empty; give one ending in .png")
    p = Path(path)
    if len(p.name.encode("utf-8")) > NAME_BYTES:
        raise InputError(f"output {p} has a name of {len(p.name.encode('utf-8'))} bytes, over the {NAME_BYTES} a file "
                         "name may have; choose a shorter name")
    for original in protect:  # first: "that is your photo" says more than "that is not a .png name"
        if same_file(p, original):
            raise InputError(f"output {p} is the input file {original}; choose another output name so the input is kept")
    if p.is_dir():
        raise InputError(f"output {p} is a folder; give a file name ending in .png")
    if p.suffix.lower() not in suffixes:
        kinds = "written as PNG" if suffixes == (".png",) else "written as PNG or JPEG"
        # a JPEG holds no transparency: only a cutout on a colour may be one (a tester asked for a .jpg cutout)
        jpeg = "; only a cutout on a background colour may be a JPEG: crm-refine --background, or the app's Cutout " \
            "on a colour" if p.suffix.lower() in JPEG_SUFFIXES and suffixes == (".png",) else ""
        raise InputError(f"output {p} must end in {' or '.join(suffixes)} (results are always {kinds}{jpeg})")
    return check_file_place(p)


def same_file(a: PathLike, b: PathLike) -> bool:
    """Whether writing a would replace b: the same path, or a link (symbolic or hard) to the same file."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet: only the path itself can match
        return Path(a).resolve() == Path(b).resolve()


def overwritten(outputs: Iterable[PathLike], inputs: Iterable[PathLike]) -> list[tuple[Path, Path]]:
    """(output, input) for every planned output that would land on one of the inputs; decided before a batch
    starts, so no item's result can replace a file another item still has to read."""
    sources = [Path(q) for q in inputs]
    existing = [Path(p) for p in outputs if os.path.exists(p)]  # a file not there yet replaces nothing
    return [(p, q) for p in existing for q in sources if same_file(p, q)]


def check_folder(path: PathLike) -> Path:
    """Refuse an output folder before any work is spent: a file, or a place where no file can be created."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"output folder {p} is a file; give a folder (it is created if missing)")
    _probe(p, p)
    return p


def check_file_place(path: PathLike) -> Path:
    """Refuse an output file (of any kind) before any work is spent where its folder takes no new file: a
    dataset copy refined 29 s of photos into a read-only folder before it said it could not write there."""
    p = Path(path)
    _probe(p.parent, p)
    return p


def _probe(folder: Path, shown: Path) -> None:
    """Create and delete a file in the folder (or, if it is still to be made, its nearest existing ancestor):
    the only sure test of writability, where permission bits lie (root, /proc, read-only mounts)."""
    existing = nearest_existing(folder)
    if not existing.is_dir():
        raise InputError(f"cannot write {shown}: {existing} is a file, not a folder; choose another output path")
    try:
        fd, name = tempfile.mkstemp(prefix=".crm-write-test.", suffix=".tmp", dir=existing)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise InputError(f"cannot write {shown}: {existing} does not accept new files ({reason}); choose a folder you can write to") from None
    os.close(fd)
    os.unlink(name)


def nearest_existing(folder: Path) -> Path:
    """``folder``, or where it is still to be made, its nearest ancestor that exists: where a write to it is
    probed, its disk's room read, and (the app's Export) whether a file can be made there."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


NAME_BYTES = 255  # the longest file name (in bytes) the file systems people use allow
STALE_SECONDS = 600  # a temp file older than this is the leftover of a killed run, not a write in progress


def _remove_stale_temps(p: Path) -> None:
    """A run killed between writing its temp file and the rename leaves .NAME.png.*.tmp behind; the next write
    of the same name clears those old enough that no live writer (whose temp lives for a second) can own them."""
    cutoff = time.time() - STALE_SECONDS
    for old in p.parent.glob(f"{glob.escape(_temp_prefix(p))}*.tmp"):
        try:
            if old.lstat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another run cleaned it first, or it is not ours to remove: the write goes on either way


def _temp_prefix(p: Path) -> str:
    """The name a temp file for ``p`` starts with: ".NAME.", NAME cut (on a whole character) so the temp name stays
    within the 255 bytes a file name may have; a legal name of 242 bytes or more failed as "File name too long",
    naming a temp file the person never asked for."""
    room = NAME_BYTES - len(".") - len(".") - 8 - len(".tmp")  # mkstemp's 8 random letters
    return f".{p.name.encode('utf-8')[:room].decode('utf-8', 'ignore')}."


def whole_png(path: PathLike) -> bool:
    """Whether a file is a PNG from its signature to its end chunk: one this program wrote (atomically) is, and
    ``--resume`` skips it; an empty or cut one is written again (a tester's emptied output was taken as done, and
    crm-eval then failed on it)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        with p.open("rb") as f:
            head = f.read(8)
            f.seek(max(size - 12, 0))
            tail = f.read(12)
    except OSError:
        return False
    return head == b"\x89PNG\r\n\x1a\n" and tail == b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _write_png(path: PathLike, pixels: np.ndarray, protect: Iterable[PathLike], profile: bytes | None = None) -> Path:
    """Encode, then write atomically, so readers never see half a file. ``profile``: an ICC colour profile to
    embed (``_with_profile``)."""
    p = check_output(path, protect)
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise InputError(f"could not encode {p} as PNG")
    return write_atomic(p, encoded.tobytes() if profile is None else _with_profile(encoded.tobytes(), profile))


def _with_profile(png: bytes, profile: bytes) -> bytes:
    """A PNG with an ICC profile chunk (iCCP: a name, compression method 0, the zlib-compressed profile) put
    right after its header, where the PNG standard wants it. Why not Pillow, which writes the chunk itself: its
    encoder took 3.7x OpenCV's time for a 6K cutout (4.7 s against 1.3 s; 2.2 s at OpenCV's zlib level, and
    17 % larger), and most camera and phone photos carry a profile (python bench/cutout_write.py)."""
    body = b"ICC Profile\0\0" + zlib.compress(profile)
    chunk = struct.pack(">I", len(body)) + b"iCCP" + body + struct.pack(">I", zlib.crc32(b"iCCP" + body))
    header_end = 8 + 8 + 13 + 4  # the signature, then IHDR: length and type, 13 bytes of data, its CRC
    return png[:header_end] + chunk + png[header_end:]


def colour_profile(photo: PathLike | None) -> bytes | None:
    """The photo's embedded ICC profile, for its cutout to carry: without it an Adobe RGB photo's colours were
    read as sRGB by every colour-managed program (duller). None when it has none, not an RGB one, or cannot be
    read."""
    if photo is None:
        return None
    try:
        with Image.open(photo) as im:
            profile = im.info.get("icc_profile") or None
    except (OSError, ValueError, SyntaxError, EOFError):
        return None
    # an RGB profile only (its header's colour space): a CMYK or grey photo's cutout is written as RGB, which
    # such a profile would mislabel
    return profile if profile is not None and profile[16:20] == b"RGB " else None


def plain_permissions(path: PathLike) -> None:
    """Give a file written through mkstemp (0600) the permissions a plain open() would have given it."""
    os.chmod(path, 0o666 & ~_UMASK)


def write_atomic(path: PathLike, data: bytes | str) -> Path:
    """Write next to the destination and rename over it: a crash or Ctrl-C leaves the old file or the new one,
    never half of one. The one writer of every output file (PNG, JSON, text)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    return _replace_atomically(Path(path), lambda fh: fh.write(payload))


def copy_atomic(source: PathLike, path: PathLike) -> Path:
    """A copy of the file ``source`` at ``path``, written as ``write_atomic`` writes: never half of one."""
    with open(source, "rb") as src:
        return _replace_atomically(Path(path), lambda fh: shutil.copyfileobj(src, fh))


def _replace_atomically(p: Path, fill: Callable[[BinaryIO], object]) -> Path:
    """``fill`` writes the file's bytes into a temp file beside ``p``, which is then renamed over ``p``."""
    tmp_name = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(p)
        fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(p), suffix=".tmp", dir=p.parent)
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
        plain_permissions(tmp_name)
        os.replace(tmp_name, p)
        _sync_folder(p.parent)
    except OSError as err:
        raise write_failed(p, err) from None
    finally:
        if tmp_name is not None and os.path.exists(tmp_name):  # failed or interrupted before the rename
            os.unlink(tmp_name)
    return p


def write_failed(path: PathLike, err: BaseException) -> InputError:
    """What to tell the person of a file that could not be written: DiskFull where the disk is full (said so by
    the system, or, for a library's own writer that says only "unexpected pos", by the room left beside it), else
    why, in the system's words without the temporary file's name, which means nothing to a person."""
    p = Path(path)
    if (isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)) or _room(p.parent) < NEARLY_FULL:
        return DiskFull(f"cannot write {p}: the disk is full; free some space or choose another disk")
    if isinstance(err, OSError):
        fix = "choose a shorter name" if err.errno == errno.ENAMETOOLONG else "choose a folder you can write to"
        return InputError(f"cannot write {p} ({err.strerror or _reason(err)}); {fix}")
    return InputError(f"cannot write {p} ({_reason(err)}); choose a folder you can write to")


def _room(folder: Path) -> float:
    """Bytes free on the disk of ``folder`` (or of its nearest existing ancestor); infinite where unknown."""
    try:
        return float(shutil.disk_usage(nearest_existing(folder)).free)
    except OSError:
        return float("inf")


def append_line(path: PathLike, line: str) -> Path:
    """Add one line to a text file (made if missing), flushed to disk: a log that grows a line at a time, where
    rewriting it whole on every line costs time in the square of its length. A kill mid-write leaves at most a
    last line without its newline, which readers of such a log drop."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "a", encoding="utf-8") as fh:
            fh.write(f"{line}\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as err:
        raise InputError(f"cannot write {p} ({_reason(err)}); choose a folder you can write to") from None
    return p


def copy_input(source: PathLike, target: PathLike) -> Path:
    """An input file (a photo, a label map) also at ``target``, left alone when ``target`` exists, so a rerun
    rewrites nothing. A copy, written atomically: a copy-on-write clone where the file system makes one (Btrfs,
    XFS: no second copy of the bytes until one side changes), the bytes otherwise. Never a hard link: an editor
    that saves the exported photo in place would have changed the person's original through it.
    A photo its EXIF turns is written upright instead (``upright_bytes``): the labels beside it are drawn on the
    upright photo, and a loader that ignores EXIF (torchvision's VOC reader) paired the stored pixels, turned, with
    a label map of the other shape."""
    source, target = Path(source), Path(target)
    if target.exists():
        return target
    if not source.is_file():
        raise InputError(f"{source} does not exist; it is needed to make {target}")
    upright = upright_bytes(source)
    if upright is not None:
        return write_atomic(target, upright)
    try:
        with open(source, "rb") as original:
            return _replace_atomically(target, lambda fh: _clone_or_copy(original, fh))
    except OSError as err:
        raise InputError(f"cannot read {source} ({_reason(err)}); it is needed to make {target}") from None


def _clone_or_copy(source: BinaryIO, target: BinaryIO) -> None:
    """The bytes of ``source`` into the empty ``target``: shared with it where the file system clones (Linux's
    FICLONE), copied where it does not (another file system, ext4, macOS, Windows)."""
    if fcntl is not None:
        try:
            fcntl.ioctl(target.fileno(), FICLONE, source.fileno())
            return
        except OSError:  # this file system does not clone
            pass
    shutil.copyfileobj(source, target, COPY_CHUNK)


def upright_bytes(photo: Path) -> bytes | None:
    """The photo's file turned upright, its EXIF orientation dropped (a JPEG at quality 95 without chroma
    subsampling, its colour profile kept), or None when its EXIF does not turn it or it cannot be read so."""
    try:
        with Image.open(photo) as im:
            if im.getexif().get(EXIF_ORIENTATION, 1) in (0, 1) or im.format not in ("JPEG", "PNG", "TIFF", "WEBP"):
                return None
            kind, profile = im.format, im.info.get("icc_profile")
            turned = ImageOps.exif_transpose(im)
            options = {"quality": 95, "subsampling": 0} if kind == "JPEG" else {}
            buffer = BytesIO()
            turned.save(buffer, format=kind, exif=turned.getexif(), icc_profile=profile, **options)
            return buffer.getvalue()
    except (OSError, ValueError, SyntaxError, EOFError):
        return None  # linked as it is: its reader will say what is wrong with it


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); platforms that cannot open a folder skip it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unit(prob: np.ndarray) -> np.ndarray:
    prob = np.asarray(prob, dtype=np.float32)
    if prob.ndim != 2:
        raise ValueError(f"a mask must be H×W, got shape {prob.shape}")
    return np.clip(prob, 0.0, 1.0)


def save_mask(path: PathLike, prob: np.ndarray, threshold: float = 0.5, protect: Iterable[PathLike] = ()) -> Path:
    """Binary 0/255 PNG: the format segmentation tools and BIG's evaluation expect."""
    binary = np.where(_unit(prob) > threshold, 255, 0).astype(np.uint8)
    return _write_png(path, binary, protect)


def save_alpha(path: PathLike, prob: np.ndarray, bits: int = 8, protect: Iterable[PathLike] = ()) -> Path:
    """The soft probability as a grey PNG; 16 bits keeps smooth edges free of banding in compositing."""
    if bits not in (8, 16):
        raise InputError(f"alpha for {path} can be 8 or 16 bits, not {bits}")
    top = 255 if bits == 8 else 65535
    dtype = np.uint8 if bits == 8 else np.uint16
    return _write_png(path, np.rint(_unit(prob) * top).astype(dtype), protect)


# a cutout's soft edge is recoloured unless asked not to (the app's export and crm-refine alike): a photo editor's
# cutout without it kept the old background's colour on 41 % of its soft edge pixels (3.9 % with it), a halo on any
# new background, and crm-refine's `--background white` JPEG showed a green fringe of grass the app's did not
DECONTAMINATE = True


def save_cutout(
    path: PathLike,
    image: np.ndarray,
    prob: np.ndarray,
    decontaminate: bool = False,
    protect: Iterable[PathLike] = (),
    profile: bytes | None = None,
) -> Path:
    """RGBA PNG of the photo with the probability as alpha; fully transparent pixels are black, so the file
    does not carry the background the person cut away (anyone dropping the alpha got it back) and is smaller.
    A photo of 16 bits per channel (H×W×3 uint16: ``deep_photo``) gives a 16-bit cutout, alpha too.

    decontaminate: replace the colours of semi-transparent edge pixels by the estimated foreground
    colour, so the old background does not bleed through as a halo when the cutout is composited.
    profile: the photo's ICC profile (``colour_profile``), embedded so the colours mean what they meant there.
    """
    rgb, _, alpha = _cutout_colours(image, prob, decontaminate)
    rgba = np.dstack([rgb[:, :, ::-1], alpha])
    rgba[alpha == 0, :3] = 0
    return _write_png(path, rgba, protect, profile)


def _cutout_colours(image: np.ndarray, prob: np.ndarray,
                    decontaminate: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a cutout is made of: the photo's colours (decontaminated where asked: ``decontaminated``), the alpha in
    [0, 1] (H×W float32) and the alpha at the photo's bits (255, or 65535 for a 16-bit photo)."""
    top = np.iinfo(image.dtype).max
    unit = _unit(prob)
    if image.shape[:2] != unit.shape:
        raise ValueError(f"image {image.shape[:2]} and mask {unit.shape} differ in size")
    alpha = np.rint(unit * top).astype(image.dtype)
    return (decontaminated(image, alpha) if decontaminate else image), unit, alpha


JPEG_SUFFIXES = (".jpg", ".jpeg")
FLAT_SUFFIXES = (".png", *JPEG_SUFFIXES)  # what ``save_flat`` writes


def save_flat(
    path: PathLike,
    image: np.ndarray,
    prob: np.ndarray,
    colour: tuple[int, int, int],
    decontaminate: bool = False,
    protect: Iterable[PathLike] = (),
    profile: bytes | None = None,
) -> Path:
    """The photo's object over a flat ``colour`` (8-bit RGB): a cutout with its background filled, as a product shot
    on white is delivered (a photo editor used to remove.bg found no such export). PNG, or JPEG (quality 95) when
    ``path`` ends in .jpg or .jpeg; a 16-bit photo gives a 16-bit PNG. ``decontaminate`` and ``profile`` as for
    ``save_cutout``: without decontamination the old background tints the edge over the new colour."""
    p = check_output(path, protect, FLAT_SUFFIXES)
    top = np.iinfo(image.dtype).max
    rgb, alpha, _ = _cutout_colours(image, prob, decontaminate)
    backdrop = np.asarray(colour, np.float32) * (top / 255.0)
    a = alpha[..., None]
    flat = np.rint(rgb.astype(np.float32) * a + backdrop * (1.0 - a)).astype(image.dtype)
    if p.suffix.lower() not in JPEG_SUFFIXES:
        return _write_png(p, np.ascontiguousarray(flat[:, :, ::-1]), protect, profile)
    eight = flat if top == 255 else np.rint(flat / 257.0).astype(np.uint8)
    encoded = BytesIO()
    Image.fromarray(eight).save(encoded, "JPEG", quality=95, icc_profile=profile)
    return write_atomic(p, encoded.getvalue())


def save_photo_cutout(path: PathLike, photo: PathLike | None, image: np.ndarray, prob: np.ndarray,
                      decontaminate: bool = False, protect: Iterable[PathLike] = (),
                      background: tuple[int, int, int] | None = None) -> Path:
    """The cutout of ``photo`` (read as ``image``) the app and the command line write: at the photo's own bits
    (``deep_photo``), with its colour profile; transparent (``save_cutout``), or over a flat ``background`` colour
    (``save_flat``)."""
    deep = deep_photo(photo, image.shape)
    pixels, profile = image if deep is None else deep, colour_profile(photo)
    if background is not None:
        return save_flat(path, pixels, prob, background, decontaminate=decontaminate, protect=protect, profile=profile)
    return save_cutout(path, pixels, prob, decontaminate=decontaminate, protect=protect, profile=profile)


def output_suffixes(flat: bool) -> tuple[str, ...]:
    """What a result may be written as: PNG, or also JPEG for a cutout over a background colour (``save_flat``)."""
    return FLAT_SUFFIXES if flat else (".png",)


def deep_photo(photo: PathLike | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """The photo as H×W×3 uint16 RGB, upright as ``load_image`` turns it, where its file holds 16 bits per colour
    channel (PNG, TIFF) and its size is ``shape``'s; else None. Why: a 16-bit photo's cutout was written at 8
    bits without a word (``load_image`` reads 8: what the model and the canvas need), banding its gradients
    in the grading a 16-bit workflow is for."""
    if photo is None or not _sixteen_bits(Path(photo)):  # the header says: an 8-bit photo is not decoded again
        return None
    pixels = cv2.imread(str(photo), cv2.IMREAD_UNCHANGED)  # unturned: turned below as Pillow does
    if pixels is None or pixels.dtype != np.uint16 or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        return None
    rgb = np.ascontiguousarray(pixels[:, :, 2::-1])
    try:
        with Image.open(photo) as im:
            turn = im.getexif().get(EXIF_ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError, EOFError):
        return None
    rgb = _upright(rgb, turn)
    return rgb if rgb.shape[:2] == tuple(shape[:2]) else None


def _sixteen_bits(photo: Path) -> bool:
    """Whether a PNG's or TIFF's header says 16 bits per sample (PNG: IHDR's bit depth; TIFF: BitsPerSample)."""
    try:
        if photo.suffix.lower() == ".png":
            with photo.open("rb") as f:
                header = f.read(25)
            return len(header) == 25 and header[24] == 16
        if photo.suffix.lower() in (".tif", ".tiff"):
            with Image.open(photo) as im:
                return 16 in tuple(np.atleast_1d(im.tag_v2.get(TIFF_BITS_PER_SAMPLE, 8)))
    except (OSError, ValueError, SyntaxError, EOFError, AttributeError):
        return False
    return False


def _upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Pixels turned as EXIF ``orientation`` (1-8) says, as Pillow's ``exif_transpose`` turns them."""
    flipped = pixels[:, ::-1] if orientation in (2, 4, 5, 7) else pixels
    turns = {3: 2, 4: 2, 5: 1, 6: 3, 7: 3, 8: 1}.get(orientation, 0)  # quarter turns counter-clockwise
    return np.ascontiguousarray(np.rot90(flipped, turns))


def decontaminated(image: np.ndarray, alpha: np.ndarray, margin: int = 16) -> np.ndarray:
    """Foreground colours from pymatting's multi-level estimate, run only on the box around the soft edge.

    Opaque and transparent pixels keep the photo's colour (the latter are invisible anyway), so the
    cost follows the size of the soft band, not of the photo.
    """
    from pymatting import estimate_foreground_ml

    full = float(np.iinfo(image.dtype).max)  # image and alpha of one depth: 8 or 16 bits
    soft = (alpha > 0) & (alpha < full)
    if not soft.any():
        return image
    rows, cols = np.nonzero(soft.any(axis=1))[0], np.nonzero(soft.any(axis=0))[0]
    top, bottom = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, alpha.shape[0])
    left, right = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, alpha.shape[1])
    crop = image[top:bottom, left:right].astype(np.float64) / full
    fg = estimate_foreground_ml(crop, alpha[top:bottom, left:right].astype(np.float64) / full)
    out = image.copy()
    box = out[top:bottom, left:right]
    band = soft[top:bottom, left:right]
    box[band] = np.clip(np.rint(fg[band] * full), 0, full).astype(image.dtype)
    return out
