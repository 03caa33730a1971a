import numpy as np
import pytest
import torch
from PIL import Image

from studio.engine import data
from studio.engine.errors import DataError, ImageError


def _face(size=40):
    yy, xx = np.mgrid[0:size, 0:size]
    return ((xx * 255) // size).astype(np.uint8)  # a left-to-right ramp: shows flips and turns


def test_builtin_faces_are_the_100_faces():
    fs = data.builtin_faces(32, 1)
    assert fs.images.shape == (100, 1, 32, 32) and fs.images.dtype == torch.uint8
    assert fs.description["kind"] == "builtin"
    from skimage.data import lfw_subset
    raw = lfw_subset()
    # the first built-in face is lfw_subset()[0] resized, and none of the non-faces is used
    small = np.asarray(Image.fromarray(fs.images[0, 0].numpy()).resize((25, 25), Image.LANCZOS))
    err_face = np.abs(small / 255.0 - raw[0]).mean()
    err_other = min(np.abs(small / 255.0 - raw[i]).mean() for i in range(100, 200))
    assert err_face < 0.05 < err_other


def test_builtin_in_colour():
    fs = data.builtin_faces(64, 3)
    assert fs.images.shape == (100, 3, 64, 64)


def test_folder_is_recursive_and_takes_every_format(tmp_path):
    g = _face()
    rgb = np.stack([g, g, g], -1)
    Image.fromarray(g).save(tmp_path / "grey.png")
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    Image.fromarray(rgb).save(tmp_path / "sub" / "rgb.JPG")
    Image.fromarray(rgb).save(tmp_path / "sub" / "deeper" / "b.bmp")
    Image.fromarray(rgb).save(tmp_path / "sub" / "w.webp")
    Image.fromarray(rgb).save(tmp_path / "t.tiff")
    Image.fromarray(np.dstack([rgb, np.full_like(g, 255)])).save(tmp_path / "rgba.png")
    Image.fromarray(g).convert("P").save(tmp_path / "pal.png")
    Image.fromarray((g.astype(np.uint16) * 257)).save(tmp_path / "16bit.png")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    Image.fromarray(g).save(tmp_path / ".hidden" / "x.png")
    found = [p.relative_to(tmp_path).as_posix() for p in data.list_images(tmp_path)]
    assert found == sorted(["16bit.png", "grey.png", "pal.png", "rgba.png", "sub/deeper/b.bmp",
                            "sub/rgb.JPG", "sub/w.webp", "t.tiff"])
    fs = data.load_folder(tmp_path, 16, 1, "none")
    assert len(fs) == 8 and fs.description["skipped"] == 0
    # every format arrives as the same ramp (jpeg and webp within compression error)
    ref = fs.images[fs.names.index("grey.png")].float()
    for i, name in enumerate(fs.names):
        assert (fs.images[i].float() - ref).abs().mean() < 6, name


def test_sixteen_bit_is_scaled_not_clipped(tmp_path):
    a = np.full((20, 20), 65535 // 2, dtype=np.uint16)
    Image.fromarray(a).save(tmp_path / "half.png")
    img = data.read_image(tmp_path / "half.png")
    assert abs(int(img[0, 0, 0]) - 128) <= 1


def test_exif_orientation_is_honoured(tmp_path):
    g = np.zeros((30, 60), np.uint8)
    g[:, :30] = 255  # white on the left, landscape
    im = Image.fromarray(g)
    exif = im.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    im.save(tmp_path / "turned.jpg", exif=exif)
    out = data.read_image(tmp_path / "turned.jpg")
    assert out.shape[:2] == (60, 30)  # shown upright: portrait
    assert out[:20, :, 0].mean() > 200 and out[40:, :, 0].mean() < 50


def test_rgba_transparent_is_white(tmp_path):
    a = np.zeros((10, 10, 4), np.uint8)
    Image.fromarray(a).save(tmp_path / "clear.png")
    assert data.read_image(tmp_path / "clear.png").min() == 255


def test_bad_files_in_a_folder_are_skipped_and_counted(tmp_path):
    Image.fromarray(_face()).save(tmp_path / "ok.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    fs = data.load_folder(tmp_path, 16, 1, "none")
    assert len(fs) == 1 and fs.description["skipped"] == 1
    assert "broken.jpg" in fs.description["skipped_examples"][0]


@pytest.mark.parametrize("make,match", [
    (lambda p: None, "no such folder"),
    (lambda p: p.mkdir(), "no images found"),
])
def test_unusable_folders(tmp_path, make, match):
    folder = tmp_path / "data"
    make(folder)
    with pytest.raises(DataError, match=match):
        data.load_folder(folder)


def test_corrupt_image_names_the_file(tmp_path):
    bad = tmp_path / "bad.png"
    Image.fromarray(_face()).save(bad)
    bad.write_bytes(bad.read_bytes()[:60])
    with pytest.raises(ImageError) as e:
        data.read_image(bad)
    assert str(bad) in str(e.value) and "\n" not in str(e.value)


def test_mirror_only_augmentation_flips_about_half():
    x = torch.arange(16.0).view(1, 1, 1, 16).repeat(200, 1, 1, 1) / 15
    y = data.augment_batch(x, torch.Generator().manual_seed(0), flip=True, jitter=0)
    flipped = y[:, 0, 0, 0] == 1
    assert 70 < flipped.sum().item() < 130
    assert torch.equal(y[flipped][0], x[0].flip(-1)) and torch.equal(y[~flipped][0], x[0])


def test_jitter_changes_faces_a_little_and_reproducibly(tiny_faces):
    x = tiny_faces.as_float()
    a = data.augment_batch(x, torch.Generator().manual_seed(3), flip=False, jitter=1.0)
    b = data.augment_batch(x, torch.Generator().manual_seed(3), flip=False, jitter=1.0)
    assert torch.equal(a, b)
    assert a.min() >= 0 and a.max() <= 1
    change = (a - x).abs().mean(dim=(1, 2, 3))
    assert (change > 0.005).all() and change.mean() < 0.1  # every face moved, none beyond recognition


def test_uint8_tensor_round_trip():
    imgs = [np.full((4, 4), v, np.uint8) for v in (0, 128, 255)]
    assert [a.tolist() for a in data.to_uint8(data.to_tensor(imgs))] == [a.tolist() for a in imgs]
