"""Fuzz the image loader: mutated image files either load as a proper image or raise the
project's own one-line ImageError. Nothing else escapes (1,200 cases)."""

import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from studio.engine import data
from studio.engine.errors import ImageError


def _seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    rgb = (rng.random((24, 20, 3)) * 255).astype(np.uint8)
    out = []
    for fmt, kw in (("PNG", {}), ("JPEG", {"quality": 80}), ("GIF", {}), ("BMP", {}),
                    ("WEBP", {}), ("TIFF", {})):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format=fmt, **kw)
        out.append(buf.getvalue())
    return out


SEEDS = _seeds()


@st.composite
def mutated(draw):
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        i = draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[i] ^= draw(st.integers(1, 255))
        elif op == "cut":
            raw = raw[:i]
        elif op == "insert":
            raw[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "zero" and raw:
            raw[i:i + 8] = bytes(len(raw[i:i + 8]))
    return bytes(raw)


@settings(max_examples=1200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(blob=mutated())
def test_mutated_images_load_or_fail_cleanly(blob, tmp_path_factory):
    p = tmp_path_factory.getbasetemp() / "fuzz.img"
    p.write_bytes(blob)
    try:
        img = data.read_image(p)
    except ImageError as e:
        assert str(p) in str(e) and "\n" not in str(e)
    else:
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and img.size > 0
