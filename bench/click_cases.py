"""What the click benches share: the dev_eval photos they click on."""

from __future__ import annotations

from pathlib import Path


def dev_eval_photos(dev_eval: Path, every: int) -> list[Path]:
    """hr/lowres's photos and every ``every``-th of real/lowres's: large and small objects, in a few minutes."""
    photos = sorted((dev_eval / "hr" / "lowres").glob("*_im.jpg"))
    return photos + sorted((dev_eval / "real" / "lowres").glob("*_im.jpg"))[::every]

