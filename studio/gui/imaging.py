"""The one place where an ndarray becomes a QImage."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def to_qimage(a: np.ndarray) -> QImage:
    """uint8 (H, W) grey or (H, W, 3) RGB -> a QImage that owns a copy of the pixels."""
    a = np.ascontiguousarray(a, dtype=np.uint8)
    if a.ndim == 2:
        h, w = a.shape
        return QImage(a.data, w, h, a.strides[0], QImage.Format_Grayscale8).copy()
    if a.ndim == 3 and a.shape[2] == 3:
        h, w, _ = a.shape
        return QImage(a.data, w, h, a.strides[0], QImage.Format_RGB888).copy()
    raise ValueError(f"cannot show an array of shape {a.shape}")


def to_pixmap(a: np.ndarray, side: int | None = None) -> QPixmap:
    """A pixmap of the image, scaled smoothly to `side` px if given."""
    pm = QPixmap.fromImage(to_qimage(a))
    if side:
        pm = pm.scaled(side, side, Qt.KeepAspectRatio, Qt.SmoothTransformation)
    return pm
