"""A loaded photo as the open model describes it (`Photo`): framed, encoded, and, once keeping
has made it, kept its person (studio.engine.kept).

A plain frozen value, free of torch and of Qt: the state holds the photos on the window's
thread before the heavy libraries have loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.engine.kept import Kept


@dataclass(frozen=True)
class Photo:
    path: str
    framed: np.ndarray          # uint8, as the model sees it
    method: str                 # face / centre / none
    note: str
    mu: np.ndarray
    sigma: np.ndarray
    reconstruction: np.ndarray
    kl_per_dim: np.ndarray
    kept: Kept | None = None    # what keeping made, once it has (None: the encoder's face)
    kept_face: np.ndarray | None = None  # uint8, the kept face

    @property
    def z(self) -> np.ndarray:
        """Where this photo's face is painted from: the kept z, or the encoder's mu."""
        return self.mu if self.kept is None else self.kept.z.astype(np.float64)

    @property
    def face(self) -> np.ndarray:
        """The face the studio shows for it: the kept face, or the encoder's reconstruction."""
        return self.reconstruction if self.kept_face is None else self.kept_face
