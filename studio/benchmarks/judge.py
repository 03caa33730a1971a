"""The identity judge: a face-recognition model that no one here trained, so that "the same
person" is not our opinion.

dlib's face-recognition ResNet (99.38% on LFW's own verification benchmark, trained on other
people) with its 5-point landmark model, both shipped inside PyPI packages (`pip install -e
".[judge]"`: dlib-bin and face-recognition-models; nothing is downloaded at run time). Two faces
are the same person when their 128-D descriptors lie closer than 0.6, dlib's own line.

A face goes to it at the model's size, upscaled to 150 px (bicubic), the box the whole square
less 12% a side. It is a judge only: nothing in the studio imports it, and it never enters a
loss or a loop that makes a face.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

SAME = 0.6  # descriptors closer than this: the same person (dlib's line)
SIDE = 150  # the judge's face chip


class JudgeMissing(RuntimeError):
    pass


def _models_folder() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise JudgeMissing("the identity judge is not installed: pip install -e \".[judge]\"")
    # the package's own __init__ imports pkg_resources; its data folder is all we need
    return Path(spec.origin).parent / "models"


class Judge:
    def __init__(self):
        try:
            import dlib
        except ImportError:
            raise JudgeMissing("the identity judge is not installed: "
                               "pip install -e \".[judge]\"") from None
        models = _models_folder()
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._net = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat"))
        m = round(SIDE * 0.12)
        self._box = dlib.rectangle(m, m, SIDE - m, SIDE - m)

    def describe(self, face: np.ndarray) -> np.ndarray:
        """One uint8 face (S, S) or (S, S, 3) -> its 128-D descriptor."""
        im = Image.fromarray(face).convert("RGB").resize((SIDE, SIDE), Image.BICUBIC)
        im = np.ascontiguousarray(np.asarray(im))
        shape = self._shape(im, self._box)
        return np.asarray(self._net.compute_face_descriptor(im, shape), dtype=np.float64)

    def describe_all(self, faces) -> np.ndarray:
        return np.stack([self.describe(f) for f in faces])


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 128) x (M, 128) -> (N, M) descriptor distances."""
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
