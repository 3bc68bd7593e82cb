"""COCO's polygons run along pixel edges; every other polygon here names pixel centres.

pycocotools (and so COCO's evaluation, detectron2 and mmdetection, which fill polygons with it) reads pixel
(x, y) as the square [x, x+1] × [y, y+1]: the polygon around a 10 × 10 block at the origin is (0, 0)–(10, 10).
LabelMe, YOLO and OpenCV's contours name pixel centres, and ``fill_polygons`` counts a pixel the outline touches
as inside: the same block is (0, 0)–(9, 9). A polygon moves from one to the other by half a pixel outward or
inward along its sides (a corner by its mitre) and half a pixel along both axes. Without it a refined object
written to COCO decoded half a pixel thinner all round (a 10 × 20 block: 171 of its 200 pixels), and a COCO polygon
read in came out half a pixel fatter.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from crm_core.formats.objects import Polygon, sides_cross

HALF = 0.5
MITRE_LIMIT = 2.0  # a sharp corner moves at most this many times the offset (a mitre grows as 1/sin(angle/2))


def to_pixel_edges(polygon: Polygon) -> Polygon:
    """A pixel-centre polygon (``fill_polygons``' pixels) as the pixel-edge one pycocotools fills to the same
    pixels. Where widening would make two of its sides cross (a 1 px gap the simplified outline narrows), it is
    only shifted: a little thinner in COCO's reading, but a valid polygon."""
    p = np.asarray(polygon, np.float64).reshape(-1, 2)
    wide = _offset(p, HALF)
    return (p if sides_cross(wide) else wide) + HALF


def to_pixel_edges_as_given(polygon: Polygon, given: Sequence[Polygon]) -> Polygon:
    """``to_pixel_edges``, but each vertex that is one of the file's polygons ``given`` (pixel edges) as read
    (``from_pixel_edges``) goes back as the file had it. Why: the move follows a vertex's two sides, so a point
    beside one a person dragged came back 0.1-0.2 px off, a change in a label file they had not made (a tester)."""
    out = to_pixel_edges(polygon)
    p = np.asarray(polygon, np.float64).reshape(-1, 2)
    if len(out) != len(p):  # repeated vertices dropped: no vertex for vertex
        return out
    for ring in given:
        ring = np.asarray(ring, np.float64).reshape(-1, 2)
        read = from_pixel_edges(ring)
        if len(read) != len(ring):
            continue
        hits = np.all(p[:, None, :] == read[None, :, :], axis=2)  # (vertex written, vertex read)
        found = hits.any(axis=1)
        out[found] = ring[hits[found].argmax(axis=1)]
    return out


def from_pixel_edges(polygon: Polygon) -> Polygon:
    """A pixel-edge polygon (COCO's) as the pixel-centre one ``fill_polygons`` fills to pycocotools' pixels."""
    return _offset(np.asarray(polygon, np.float64).reshape(-1, 2) - HALF, -HALF)


def _offset(p: np.ndarray, distance: float) -> np.ndarray:
    """Each vertex moved so the polygon's sides move ``distance`` px outward (inward when negative)."""
    keep = np.any(p != np.roll(p, 1, axis=0), axis=1)  # repeated vertices have no side to move
    if keep.sum() < 3:
        return p
    p = p[keep]
    along = np.roll(p, -1, axis=0) - p  # side i runs from vertex i to i + 1
    along /= np.linalg.norm(along, axis=1, keepdims=True)
    area2 = np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1])
    normal = np.stack([along[:, 1], -along[:, 0]], axis=1) * (1.0 if area2 >= 0 else -1.0)  # outward, y down
    before, after = np.roll(normal, 1, axis=0), normal  # the sides into and out of each vertex
    cos = np.sum(before * after, axis=1, keepdims=True)
    bend = np.where(cos > -0.999, (before + after) / np.maximum(1.0 + cos, 1e-9), np.roll(along, 1, axis=0))
    length = np.linalg.norm(bend, axis=1, keepdims=True)
    bend *= np.minimum(1.0, MITRE_LIMIT / np.maximum(length, 1e-9))
    return p + distance * bend
