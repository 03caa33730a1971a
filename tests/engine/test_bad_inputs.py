"""Every kind of image file a person may throw at the studio: a correct result, or one line that
names the file and the problem (exit 2 on the command line). Nothing else escapes."""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from studio import cli
from studio.engine import data
from studio.engine.errors import ImageError


def _png(a, **kw):
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG", **kw)
    return buf.getvalue()


def _face_rgb(size=64):
    from skimage import data as sk
    return np.asarray(Image.fromarray(sk.astronaut()).resize((size, size)))


def make(kind, folder):
    """Write one test input; returns its path."""
    p = folder / {"zero": "empty.png", "trunc_png": "cut.png", "trunc_jpg": "cut.jpg",
                  "text_jpg": "notes.jpg", "dir_png": "folder.png", "bomb": "bomb.png",
                  "grey16": "grey16.png", "cmyk": "cmyk.jpg", "pal_t": "palette.png",
                  "rgba": "rgba.png", "gif": "animated.gif", "one": "one.png",
                  "strip": "strip.png", "spaces": "my photo ünï -x.png"}[kind]
    rgb = _face_rgb()
    if kind == "zero":
        p.write_bytes(b"")
    elif kind == "trunc_png":
        p.write_bytes(_png(rgb)[:300])
    elif kind == "trunc_jpg":
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG")
        p.write_bytes(buf.getvalue()[:400])
    elif kind == "text_jpg":
        p.write_text("just some text, not a photo\n")
    elif kind == "dir_png":
        p.mkdir()
    elif kind == "bomb":  # a PNG whose header claims 50,000 x 50,000 pixels
        import struct
        import zlib
        ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 0, 0, 0, 0)
        chunk = lambda t, d: (struct.pack(">I", len(d)) + t + d
                              + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF))
        p.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                      + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))
    elif kind == "grey16":
        Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)).save(p)
    elif kind == "cmyk":
        Image.fromarray(rgb).convert("CMYK").save(p, format="JPEG")
    elif kind == "pal_t":
        im = Image.fromarray(rgb).convert("P")
        im.info["transparency"] = 0
        im.save(p, transparency=0)
    elif kind == "rgba":
        Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 200, np.uint8)])).save(p)
    elif kind == "gif":
        frames = [Image.fromarray(rgb), Image.fromarray(255 - rgb)]
        frames[0].save(p, save_all=True, append_images=frames[1:], duration=50)
    elif kind == "one":
        Image.fromarray(np.full((1, 1, 3), 128, np.uint8)).save(p)
    elif kind == "strip":
        Image.fromarray(np.full((50, 20_000), 90, np.uint8)).save(p)
    elif kind == "spaces":
        Image.fromarray(rgb).save(p)
    return p


REFUSED = {"zero": "not an image", "trunc_png": "truncated", "trunc_jpg": "truncated",
           "text_jpg": "not an image", "dir_png": "is a folder", "bomb": "too large"}
ACCEPTED = ["grey16", "cmyk", "pal_t", "rgba", "gif", "one", "strip", "spaces"]


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_bad_files_are_refused_with_one_line(kind, tmp_path, tiny_model_path, capsys):
    p = make(kind, tmp_path)
    with pytest.raises(ImageError, match=REFUSED[kind]) as e:
        data.read_image(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)
    assert cli.main(["encode", str(tiny_model_path), str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(p) in err[0]


@pytest.mark.parametrize("kind", ACCEPTED)
def test_odd_but_valid_files_are_read(kind, tmp_path, tiny_model_path, capsys):
    p = make(kind, tmp_path)
    img = data.read_image(p)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert cli.main(["encode", str(tiny_model_path), str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["image"] == str(p) and len(out[0]["mu"]) == 4


def test_content_is_right_for_the_odd_formats(tmp_path):
    rgb = _face_rgb()
    grey = data.read_image(make("grey16", tmp_path))
    assert np.abs(grey[..., 0].astype(int) - rgb[..., 0]).max() <= 1  # 16 bit scaled, not clipped
    cmyk = data.read_image(make("cmyk", tmp_path))
    assert np.abs(cmyk.astype(int) - rgb).mean() < 12  # CMYK JPEG comes back as the photo
    gif = data.read_image(make("gif", tmp_path))
    assert np.abs(gif.astype(int) - rgb).mean() < np.abs(gif.astype(int) - (255 - rgb)).mean()
    assert data.read_image(make("strip", tmp_path)).shape == (50, 20_000, 3)


def test_a_file_name_with_a_leading_dash_works_after_double_dash(tmp_path, tiny_model_path):
    p = tmp_path / "-face.png"
    Image.fromarray(_face_rgb()).save(p)
    r = subprocess.run([sys.executable, "-m", "studio", "encode", str(tiny_model_path), "--json",
                        "--", "-face.png"], capture_output=True, text=True, cwd=tmp_path,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["image"] == "-face.png"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_a_file_the_user_may_not_read(tmp_path):
    p = tmp_path / "secret.png"
    Image.fromarray(_face_rgb()).save(p)
    p.chmod(0)
    with pytest.raises(ImageError, match="permission denied"):
        data.read_image(p)


def test_no_face_says_so_and_uses_a_centre_crop(tmp_path, tiny_model_path, capsys):
    p = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 300, 3), 120, np.uint8)).save(p)
    assert cli.main(["encode", str(tiny_model_path), str(p), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["framing"] == "centre"


def test_a_file_the_user_may_not_read_even_as_root(tmp_path, monkeypatch):
    """Root reads every file, so the refusal is simulated where the OS would raise it."""
    p = tmp_path / "secret.png"
    Image.fromarray(_face_rgb()).save(p)

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(Image, "open", denied)
    with pytest.raises(ImageError, match="permission denied") as e:
        data.read_image(p)
    assert str(p) in str(e.value)
