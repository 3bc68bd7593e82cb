"""Reading photos and masks, writing results: every way a file can be wrong becomes one InputError line.

Decoding goes through Pillow (broadest format coverage, EXIF orientation); encoding through OpenCV's PNG
writer (fast on 6K masks). All writes are atomic so a crash never leaves a half-written file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps

from crm_core.errors import InputError

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
    FORMATS = "JPEG, PNG, TIFF, WebP, BMP or HEIC"
except ImportError:
    FORMATS = "JPEG, PNG, TIFF, WebP or BMP"

DEFAULT_MAX_PIXELS = 200_000_000
MIN_SIDE = 8
PathLike = str | os.PathLike

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
        return int(value) if value else DEFAULT_MAX_PIXELS
    except ValueError:
        raise InputError(f"CRM_MAX_PIXELS={value!r} is not a whole number of pixels; unset it or give e.g. 50000000")


def _open(path: PathLike, max_pixels: int | None) -> Image.Image:
    """Open, size-check from the header, decode fully and undo EXIF rotation; every failure names the file."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist; check the path")
    if p.is_dir():
        raise InputError(f"{p} is a folder, not an image file")
    cap = max_pixels_default() if max_pixels is None else max_pixels
    try:
        im = Image.open(p)
    except (OSError, SyntaxError, ValueError) as err:
        raise InputError(f"{p} is not an image this program can read ({_reason(err)}); use a {FORMATS} file") from None
    w, h = im.size
    if w * h > cap:
        im.close()
        raise InputError(f"{p} is {w}x{h} px ({w * h:,} pixels), over the limit of {cap:,} pixels; downscale it first")
    try:
        im.load()
        ImageOps.exif_transpose(im, in_place=True)
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise InputError(f"{p} is truncated or corrupt ({_reason(err)}); export or download it again") from None
    if min(im.size) < MIN_SIDE:
        raise InputError(f"{p} is {im.width}x{im.height} px; the minimum is {MIN_SIDE}x{MIN_SIDE} px")
    return im


def _reason(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _sixteen_to_unit(im: Image.Image) -> np.ndarray:
    """16-bit (or Pillow's 32-bit integer) grey as 0..1, the full 16-bit range mapping to 0..1."""
    return np.clip(np.asarray(im, dtype=np.float64) / 65535.0, 0.0, 1.0)


def load_image(path: PathLike, max_pixels: int | None = None) -> np.ndarray:
    """The photo as H×W×3 uint8 RGB, upright as the camera meant it; alpha is ignored.

    max_pixels: refuse larger images before decoding them (None: CRM_MAX_PIXELS or 200 MP).
    """
    im = _open(path, max_pixels)
    if im.mode in _SIXTEEN_BIT:
        grey = np.rint(_sixteen_to_unit(im) * 255.0).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if im.mode == "F":
        grey = np.asarray(im, dtype=np.float32)
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


def load_mask(
    path: PathLike,
    shape: tuple[int, int] | None = None,
    resize: bool = False,
    label: int | Sequence[int] | None = None,
    max_pixels: int | None = None,
) -> np.ndarray:
    """A coarse mask as H×W float32 in [0, 1].

    Grey files give value/255 (16-bit: /65535); a file with a real alpha channel gives its alpha;
    label picks one class of a label image: a palette index (or grey level) or an RGB colour.
    shape: the photo's (H, W); a mask of another size is refused unless resize is True and the
    aspect ratios agree within 1 %, then it is resized bilinearly.
    """
    im = _open(path, max_pixels)
    prob = _label_mask(path, im, label) if label is not None else _soft_mask(im)
    if shape is not None:
        prob = _fit(path, prob, shape, resize)
    return np.ascontiguousarray(prob, dtype=np.float32)


def _soft_mask(im: Image.Image) -> np.ndarray:
    if im.mode == "1":
        return np.asarray(im, dtype=np.float32)
    if im.mode in _SIXTEEN_BIT:
        return _sixteen_to_unit(im).astype(np.float32)
    if im.mode == "F":
        return np.clip(np.asarray(im, dtype=np.float32), 0.0, 1.0)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        alpha = np.asarray(im.convert("RGBA").getchannel("A"))
        if alpha.min() < 255:
            return alpha.astype(np.float32) / 255.0
    return np.asarray(im.convert("L"), dtype=np.float32) / 255.0


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


def _fit(path: PathLike, prob: np.ndarray, shape: tuple[int, int], resize: bool) -> np.ndarray:
    h, w = prob.shape
    height, width = int(shape[0]), int(shape[1])
    if (h, w) == (height, width):
        return prob
    same_aspect = abs(w * height - width * h) <= 0.01 * width * h
    if resize and same_aspect:
        return cv2.resize(prob, (width, height), interpolation=cv2.INTER_LINEAR)
    hint = "the aspect ratios differ by more than 1 %" if resize else "export the mask at the photo's size or allow resizing"
    raise InputError(f"{path} is {w}x{h} px but the photo is {width}x{height} px; {hint}")


def check_output(path: PathLike, protect: Iterable[PathLike] = ()) -> Path:
    """Refuse an output path before any work is spent: not PNG, a folder, or one of the user's inputs."""
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise InputError(f"output {p} must end in .png (results are always written as PNG)")
    if p.is_dir():
        raise InputError(f"output {p} is a folder; give a file name ending in .png")
    target = p.resolve()
    for original in protect:
        q = Path(original)
        same = q.resolve() == target or (p.exists() and q.exists() and os.path.samefile(p, q))
        if same:
            raise InputError(f"output {p} is the input file {q}; choose another output name so the input is kept")
    return p


def _write_png(path: PathLike, pixels: np.ndarray, protect: Iterable[PathLike]) -> Path:
    """Encode, then write atomically, so readers never see half a file."""
    p = check_output(path, protect)
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise InputError(f"could not encode {p} as PNG")
    return write_atomic(p, encoded.tobytes())


def write_atomic(path: PathLike, data: bytes | str) -> Path:
    """Write next to the destination and rename over it: a crash or Ctrl-C leaves the old file or the new one,
    never half of one. The one writer of every output file (PNG, JSON, text)."""
    p = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp_name = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp_name, 0o666 & ~_UMASK)
        os.replace(tmp_name, p)
    except OSError as err:
        raise InputError(f"cannot write {p} ({_reason(err)}); choose a folder you can write to") from None
    finally:
        if tmp_name is not None and os.path.exists(tmp_name):  # failed or interrupted before the rename
            os.unlink(tmp_name)
    return p


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


def save_cutout(
    path: PathLike,
    image: np.ndarray,
    prob: np.ndarray,
    decontaminate: bool = False,
    protect: Iterable[PathLike] = (),
) -> Path:
    """RGBA PNG of the photo with the probability as alpha.

    decontaminate: replace the colours of semi-transparent edge pixels by the estimated foreground
    colour, so the old background does not bleed through as a halo when the cutout is composited.
    """
    alpha = np.rint(_unit(prob) * 255).astype(np.uint8)
    if image.shape[:2] != alpha.shape:
        raise ValueError(f"image {image.shape[:2]} and mask {alpha.shape} differ in size")
    rgb = decontaminated(image, alpha) if decontaminate else image
    rgba = np.dstack([rgb[:, :, ::-1], alpha])
    return _write_png(path, rgba, protect)


def decontaminated(image: np.ndarray, alpha: np.ndarray, margin: int = 16) -> np.ndarray:
    """Foreground colours from pymatting's multi-level estimate, run only on the box around the soft edge.

    Opaque and transparent pixels keep the photo's colour (the latter are invisible anyway), so the
    cost follows the size of the soft band, not of the photo.
    """
    from pymatting import estimate_foreground_ml

    soft = (alpha > 0) & (alpha < 255)
    if not soft.any():
        return image
    rows, cols = np.nonzero(soft.any(axis=1))[0], np.nonzero(soft.any(axis=0))[0]
    top, bottom = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, alpha.shape[0])
    left, right = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, alpha.shape[1])
    crop = image[top:bottom, left:right].astype(np.float64) / 255.0
    fg = estimate_foreground_ml(crop, alpha[top:bottom, left:right].astype(np.float64) / 255.0)
    out = image.copy()
    box = out[top:bottom, left:right]
    band = soft[top:bottom, left:right]
    box[band] = np.clip(np.rint(fg[band] * 255.0), 0, 255).astype(np.uint8)
    return out
