"""The tile-based canvas: photo and mask overlays drawn from tile pyramids, editing tools, navigator."""

from app.canvas.navigator import Navigator
from app.canvas.view import CanvasView

__all__ = ["CanvasView", "Navigator"]
