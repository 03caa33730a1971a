import numpy as np
import pytest
from skimage import data as skdata

from studio.benchmarks.framing import psnr
from studio.engine import detectors, faces, squares
from studio.engine.data import choose_framing, list_images, load_photo


def test_the_astronauts_face_is_found_and_framed():
    img = skdata.astronaut()  # Eileen Collins: her face is at rows ~60-180, cols ~180-290
    f = faces.frame(img, 32, 1, "face")
    assert f.method == "face" and f.note == ""
    top, left, side = f.box
    # brow to chin (the shipped model's crop), aligned
    assert 30 < top < 100 and 150 < left < 210 and 70 < side < 160
    assert f.image.shape == (32, 32)


def test_the_framing_matches_the_training_faces():
    """The astronaut framed at 25 px looks like the LFW crops: of all built-in face images, its
    nearest neighbour is much nearer than the nearest non-face (in mean absolute difference)."""
    f = faces.frame(skdata.astronaut(), 25, 1, "face").image / 255.0
    lfw = skdata.lfw_subset()
    d = np.abs(lfw - f).mean(axis=(1, 2))
    assert d[:100].mean() < d[100:].mean()


def test_no_face_falls_back_to_a_centre_crop_and_says_so():
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, 50:150] = 200  # the centre square is bright, the sides dark
    f = faces.frame(img, 16, 1, "face")
    assert f.method == "centre" and "no face" in f.note
    assert f.box == (0, 50, 100)
    assert f.image.min() > 190


def test_colour_and_grey_output():
    img = skdata.astronaut()
    assert faces.frame(img, 64, 3).image.shape == (64, 64, 3)
    assert faces.frame(img, 28, 1).image.shape == (28, 28)


def test_small_images_are_taken_as_face_crops():
    img = (skdata.lfw_subset()[0] * 255).astype(np.uint8)
    f = faces.frame(img, 32, 1, "auto")
    assert f.method == "none"


def test_crops_near_the_edge_are_padded_not_shrunk():
    img = np.full((50, 50), 100, np.uint8)
    out = squares.cut(img, -10, -10, 40)
    assert out.shape == (40, 40)


def test_aligned_folder_is_not_cropped_again(tmp_path):
    """A folder of same-size crops where the face fills the frame (as in CelebA's aligned set)
    is detected as aligned; a folder of scenes with a small face is not."""
    from PIL import Image

    astro = skdata.astronaut()
    tight = astro[40:220, 150:330]  # the face fills this crop
    (tmp_path / "aligned").mkdir()
    (tmp_path / "scenes").mkdir()
    for i in range(4):
        Image.fromarray(np.ascontiguousarray(tight[:, ::(1 if i % 2 else -1)])).save(
            tmp_path / "aligned" / f"{i}.png")
        Image.fromarray(np.ascontiguousarray(astro[:, ::(1 if i % 2 else -1)])).save(
            tmp_path / "scenes" / f"{i}.png")
    method, crop = choose_framing(list_images(tmp_path / "aligned"), "auto")
    # one fixed square for the whole folder, learned from its median detection: on these
    # tight crops it is most of the image and near its centre
    assert method == "aligned" and crop.box is not None
    top, left, side = crop.box
    assert 0.4 <= side <= 1.2 and abs(top + side / 2 - 0.5) < 0.15 and abs(left + side / 2 - 0.5) < 0.15
    assert choose_framing(list_images(tmp_path / "scenes"), "auto")[0] == "face"
    assert choose_framing(list_images(tmp_path / "scenes"), "none")[0] == "none"


def test_load_photo_frames_a_file(tmp_path):
    from PIL import Image

    p = tmp_path / "astro.jpg"
    Image.fromarray(skdata.astronaut()).save(p, quality=90)
    f = load_photo(p, 32, 1)
    assert f.method == "face" and f.image.shape == (32, 32)


def test_unknown_framing_is_refused():
    with pytest.raises(ValueError, match="framing"):
        faces.frame(np.zeros((10, 10), np.uint8), 8, 1, "magic")


# -- the eyes ---------------------------------------------------------------------------------
def _turned(img, degrees):
    from PIL import Image

    return np.asarray(Image.fromarray(img).rotate(degrees, Image.BICUBIC, expand=True,
                                                  fillcolor=(90, 90, 90)))


def test_the_astronauts_eyes_are_found():
    img = skdata.astronaut()
    grey = detectors.to_grey(img)
    boxes = detectors.haar_faces(grey)
    pairs = [e for e in (detectors.find_eyes(grey, d) for d in boxes) if e is not None]
    assert pairs, boxes
    (ly, lx), (ry, rx) = pairs[0]
    # her eyes, read off the photo: rows ~100-104, columns ~202 and ~247
    assert 90 < ly < 115 and 190 < lx < 215 and 90 < ry < 115 and 235 < rx < 260


def test_the_square_from_the_eyes_puts_them_where_the_training_crops_hold_them():
    (tly, tlx), (ty, tx) = squares.EYE_TARGETS
    cy, cx, side = 300.0, 200.0, 128.0
    for degrees in (0.0, 20.0, -12.0):
        a = np.radians(degrees)

        def place(r, c, a=a):  # a point of the 64 px crop -> the image, the square turned by a
            u, v = (c - 32) * side / 64, (r - 32) * side / 64
            return cy + u * np.sin(a) + v * np.cos(a), cx + u * np.cos(a) - v * np.sin(a)
        got = squares.from_eyes(place(tly, tlx), place(ty, tx))
        assert np.allclose(got, (cy, cx, side, degrees), atol=1e-6)


@pytest.mark.parametrize("side, degrees", [(100.0, 0.0), (100.0, 10.0), (20.0, 5.0),
                                           (600.0, -8.0)])
def test_the_aligners_view_is_where_its_square_says(side, degrees):
    """A dot placed in the photo where a square's view has (row 12, column 40) is drawn there in
    the view: small faces (scaled up) and large ones (shrunk first, then turned) alike."""
    from studio.engine import align

    n = align.VIEW
    cy, cx = 700.3, 650.7
    k, a = align.SPAN * side / n, np.radians(degrees)
    # view pixel centre (u, v) -> the photo's continuous point -> its pixel-centre coordinates
    du, dv = (40 + 0.5 - n / 2) * k, (12 + 0.5 - n / 2) * k
    x = cx + np.cos(a) * du - np.sin(a) * dv - 0.5
    y = cy + np.sin(a) * du + np.cos(a) * dv - 0.5
    yy, xx = np.mgrid[:1800, :1800]
    dot = max(2.5 * k, 2.5)  # photo px: a few view pixels, or its centre is a pixel's
    img = np.where((yy - y) ** 2 + (xx - x) ** 2 < dot ** 2, 255, 0).astype(np.uint8)
    v = align.view(img, (cy, cx, side, degrees))
    assert v.shape == (n, n)
    w = np.clip(v, 0, None)
    vy, vx = (np.argwhere(w > 60) * 1.0).mean(0)
    assert abs(vy - 12) < 0.5 and abs(vx - 40) < 0.5, (vy, vx)


def test_the_aligners_answer_takes_a_square_back_to_the_crop():
    """Where the network should find its three points in a square's view, read back as a move
    of that square, gives the crop exactly: the training targets and the framing agree."""
    from studio.engine import align

    truth = (125.5, 124.5, 123.0, 2.0)
    for square in [(130.0, 110.0, 140.0, -12.0), (120.0, 131.0, 100.0, 18.0), truth]:
        got = align.apply(square, align.answer(align.target(square, truth)))
        assert np.allclose(got, truth, atol=1e-6), (square, got)


def test_the_aligner_finds_one_square_from_rough_first_ones():
    """First squares off by 10-15% in scale, 6 px and 5 degrees all land on one square: this is
    what makes a photo and the same photo scaled and turned land on one crop."""
    grey = detectors.to_grey(skdata.astronaut())
    first, how = faces._haar_square(grey)
    assert how == "eyes"
    cy, cx, side, angle = first
    ref = faces._aligned(grey, first)
    for k, d, turn in ((1.1, 6, 5), (0.9, -6, -5), (1.15, 0, 0), (0.87, 5, 3)):
        got = faces._aligned(grey, (cy + d, cx - d, side * k, angle + turn))
        assert np.hypot(got[0] - ref[0], got[1] - ref[1]) < 2.0, (got, ref)
        assert abs(got[2] / ref[2] - 1) < 0.03 and abs(got[3] - ref[3]) < 1.5, (got, ref)


@pytest.mark.parametrize("degrees", [-10, 10])
def test_a_turned_photo_is_framed_as_the_upright_one(degrees):
    """The astronaut turned by 10 degrees either way: the crop turns with her face, and what
    the model sees is the upright photo's crop."""
    img = skdata.astronaut()
    upright = faces.frame(img, 64, 3, "face")
    turned = faces.frame(_turned(img, degrees), 64, 3, "face")
    assert turned.method == "face"
    # PIL turns counter-clockwise; the crop's angle is clockwise on screen
    assert abs((upright.angle - turned.angle) - degrees) < 2.5, (upright.angle, turned.angle)
    assert psnr(upright.image, turned.image) >= 30  # 36.3 / 38.9 dB now


def test_without_opencv_the_lbp_detector_frames_the_face(monkeypatch):
    monkeypatch.setattr(detectors, "_cv", lambda: None)
    assert detectors.haar_faces(detectors.to_grey(skdata.astronaut())) == []
    f = faces.frame(skdata.astronaut(), 32, 1, "face")
    top, left, side = f.box
    assert f.method == "face" and 30 < top < 100 and 150 < left < 210 and 70 < side < 160


def test_an_opencv_without_cascades_falls_back_to_lbp_and_says_so_once(monkeypatch, caplog):
    """OpenCV 5 (or a broken install) imports but has no CascadeClassifier: framing goes on with
    the LBP detector, and one warning names the OpenCV and what to install, instead of a crash on
    every photo."""
    import sys
    import types

    fake = types.ModuleType("cv2")
    fake.__version__ = "5.0.0"
    fake.data = types.SimpleNamespace(haarcascades="/nowhere/")
    monkeypatch.setitem(sys.modules, "cv2", fake)
    monkeypatch.delattr(detectors._local, "cv", raising=False)  # this thread's cache, restored after
    monkeypatch.setattr(detectors, "_said_no_cascades", False)
    with caplog.at_level("WARNING", logger=detectors.__name__):
        f = faces.frame(skdata.astronaut(), 32, 1, "face")
        detectors._local.cv = None  # as a new thread would: looks again, says nothing more
        faces.frame(skdata.astronaut(), 32, 1, "face")
    top, left, side = f.box
    assert f.method == "face" and f.found_by == "lbp" and 150 < left < 210 and 70 < side < 160
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1, said
    assert "OpenCV 5.0.0" in said[0] and "CascadeClassifier" in said[0]
    assert "opencv-python-headless<5" in said[0]


def test_a_small_face_in_a_large_photo_is_found():
    """The astronaut at 0.7x on a 1200 x 1000 canvas: her face is 19 px at the first search's
    320 px, below the cascade's 24; the second search, at 640 px, finds it."""
    from PIL import Image

    img = skdata.astronaut()
    canvas = Image.new("RGB", (1200, 1000), (30, 140, 60))
    canvas.paste(Image.fromarray(img).resize((358, 358), Image.LANCZOS), (300, 150))
    small = faces.frame(np.asarray(canvas), 64, 3, "face")
    assert small.method == "face" and small.found_by == "eyes"
    assert psnr(faces.frame(img, 64, 3, "face").image, small.image) >= 28  # 34.6 dB now


def test_an_aligner_that_runs_off_keeps_the_first_square(monkeypatch):
    """Nothing face-like where the first square is (a false detection): an aligner answer far
    from it (or not a number) is not trusted, and the first square is cut as it is."""
    from studio.engine import align

    grey = detectors.to_grey(skdata.astronaut())
    first = (120.0, 230.0, 110.0, 4.0)
    for wild in [(400.0, 230.0, 110.0, 4.0), (120.0, 230.0, 300.0, 4.0),
                 (120.0, 230.0, 110.0, 60.0), (float("nan"),) * 4]:
        monkeypatch.setattr(align, "refine", lambda g, sq, steps=3, w=wild: w)
        assert faces._aligned(grey, first) == first
    monkeypatch.setattr(align, "refine", lambda g, sq, steps=3: (125.0, 226.0, 118.0, 1.0))
    assert faces._aligned(grey, first) == (125.0, 226.0, 118.0, 1.0)


