"""Directions, keyframe paths, MP4 and contact sheets, the manifold, sessions (engine and CLI)."""

import json

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from studio import cli
from studio.engine import directions, export, latent, session
from studio.engine.errors import StudioError
from studio.engine.inference import FaceModel
from tests.conftest import make_faces


@pytest.fixture(scope="module")
def fm(tiny_model_path):
    return FaceModel.open(tiny_model_path)


def test_a_direction_from_bright_and_dark_faces_brightens_monotonically(fm):
    faces = make_faces(60, seed=7)  # the same kind of faces the tiny model learned
    imgs = [f[0].numpy() for f in faces.images]
    mu, _ = fm.encode_images(imgs)
    brightness = np.array([im.mean() for im in imgs])
    order = np.argsort(brightness)
    # the brighter half against the darker half, applied to the median face
    d = directions.Direction.from_groups("brighter", mu[order[30:]], mu[order[:30]])
    start = mu[order[30]]
    amounts = np.linspace(-2, 2, 9)
    painted = fm.decode(np.stack([d.apply(start, a) for a in amounts]))
    means = painted.reshape(len(amounts), -1).mean(1)
    assert np.all(np.diff(means) > 0), means  # brighter at every step
    assert means[-1] - means[0] > 40          # and by a lot (grey levels of 255)


def test_keyframe_paths_loop_and_ease():
    keys = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    open_path = latent.path(keys, 4, "lerp")
    assert len(open_path) == 4 * 2 + 1
    assert np.allclose(open_path[0], keys[0]) and np.allclose(open_path[-1], keys[-1])
    looped = latent.path(keys, 4, "lerp", loop=True)
    assert len(looped) == 4 * 3  # back towards A, without doubling A at the seam
    assert np.allclose(looped[8], keys[2]) and np.allclose(looped[-1], [0.25, 0.25])
    eased = latent.path(keys[:2], 10, "lerp", "ease-in-out")
    steps = np.diff(eased[:, 0])
    assert steps[0] < steps[5] and steps[-1] < steps[5]  # slow, fast, slow
    assert np.allclose(latent.at(keys, 1.0, loop=True), keys[0])
    assert np.allclose(latent.at(keys, 0.5, easing="ease-in-out"), keys[1])


def test_exported_gif_has_the_frames_and_starts_at_a(fm, photos, tmp_path):
    out = tmp_path / "m.gif"
    assert cli.main(["morph", str(fm.file.meta["path"]), *photos, "--frames", "5", "--out",
                     str(out), "--scale", "1", "--framing", "none", "--encoder-only"]) == 0
    gif = Image.open(out)
    assert gif.n_frames == 5 * 2 + 1
    a = fm.encode_photo(photos[0], "none")
    gif.seek(0)
    first = np.asarray(gif.convert("L"), dtype=int)
    assert np.abs(first - fm.decode(a.mu)[0].astype(int)).max() <= 2


def test_exported_mp4_opens_with_the_right_frame_count(fm, photos, tmp_path):
    out = tmp_path / "m.mp4"
    assert cli.main(["morph", str(fm.file.meta["path"]), *photos[:2], "--frames", "12", "--out",
                     str(out), "--loop", "--easing", "ease-in-out"]) == 0
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == 12 * 2
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert meta["codec"] == "h264" and meta["size"][0] % 16 == 0
    first = np.frombuffer(next(reader), np.uint8).reshape(meta["size"][1], meta["size"][0], 3)
    assert first.std() > 5  # a face, not a blank frame


def test_contact_sheet_numbers_every_frame(tmp_path):
    frames = [np.full((16, 16), v, np.uint8) for v in (0, 80, 160, 240)]
    out = export.save_morph(frames, tmp_path / "sheet.png", sheet=True, scale=2)
    sheet = np.asarray(Image.open(out).convert("RGB"))
    assert sheet.shape == (2 * 32 + 4, 2 * 32 + 4, 3)
    yellow = (sheet[..., 0] > 200) & (sheet[..., 1] > 200) & (sheet[..., 2] < 80)
    assert yellow[:32, :32].any() and yellow[36:, 36:].any()  # a number on each tile


def test_a_cancelled_export_leaves_no_file(tmp_path):
    frames = [np.full((16, 16), v, np.uint8) for v in range(0, 250, 10)]

    def cancel(done, total):
        if done > 3:
            raise export.Cancelled("cancelled")

    for name in ("c.mp4", "c.gif"):
        with pytest.raises(export.Cancelled):
            export.save_morph(frames, tmp_path / name, progress=cancel)
    assert list(tmp_path.iterdir()) == []


def test_manifold_command_gives_n_by_n_different_faces(fm, tmp_path):
    out = tmp_path / "manifold.png"
    assert cli.main(["manifold", str(fm.file.meta["path"]), "--n", "6", "--out", str(out),
                     "--scale", "1"]) == 0
    img = np.asarray(Image.open(out))
    s = fm.config.image_size
    assert img.shape[:2] == (6 * s, 6 * s)
    tiles = img.reshape(6, s, 6, s).transpose(0, 2, 1, 3).reshape(36, -1).astype(int)
    diffs = np.abs(tiles[:, None] - tiles[None]).mean(-1)
    assert (diffs[~np.eye(36, dtype=bool)] > 0.5).all()  # no two tiles alike
    # neighbours are closer than opposite corners: a smooth map, not noise
    assert diffs[0, 1] < diffs[0, 35]


def test_session_round_trip_and_missing_files(fm, photos, tmp_path):
    model = fm.file.meta["path"]
    d = directions.Direction.from_groups("brighter", np.ones((2, 4)), np.zeros((1, 4)), "a", "b")
    s = session.Session(model_path=str(model), model_sha256=session.sha256_of(model),
                        photos=tuple(photos),
                        keyframes=(session.Keyframe("A", np.arange(4.0)),
                                   session.Keyframe("B", -np.arange(4.0))),
                        directions=(d,), current_z=np.array([0.5, -1, 2, 0]),
                        view={"axes": "pca", "x": [-1, 1], "y": [-2, 2]},
                        settings={"frames": 12, "easing": "ease-in-out"})
    path = session.save_session(tmp_path / "s.json", s)
    back = session.load_session(path)
    assert back.photos == s.photos and back.view == s.view and back.settings == s.settings
    assert np.allclose(back.current_z, s.current_z)
    assert [k.label for k in back.keyframes] == ["A", "B"]
    assert np.allclose(back.keyframes[1].z, -np.arange(4.0))
    assert back.directions[0].name == "brighter" and np.allclose(back.directions[0].vector, 1)
    assert back.missing() == []
    moved = session.Session.from_dict({**s.to_dict(), "photos": [photos[0], "/nowhere/x.png"]})
    assert moved.missing() == ["photo /nowhere/x.png"]


@pytest.mark.parametrize("text, message", [
    ("not json", "bad JSON"), ('{"format": "other"}', "not a Face Studio session"),
    ('{"format": "face-studio-session", "version": 99}', "newer Face Studio"),
    ('{"format": "face-studio-session", "version": 1, "keyframes": [{"z": "x"}]}',
     r"keyframes\[0\]\.z must be a list"),
])
def test_a_bad_session_file_is_one_clear_line(tmp_path, text, message):
    p = tmp_path / "bad.json"
    p.write_text(text)
    with pytest.raises(StudioError, match=message) as e:
        session.load_session(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_directions_file_round_trip_and_wrong_size(tmp_path):
    dirs = [directions.Direction("smile", np.array([1.0, 0, 0])),
            directions.Direction("older", np.array([0, 2.0, -1]), "old", "young")]
    p = session.save_directions(tmp_path / "d.json", dirs, 3)
    assert json.loads(p.read_text())["latent_dim"] == 3
    back = session.load_directions(p, 3)
    assert [d.name for d in back] == ["smile", "older"] and back[1].negative == "young"
    with pytest.raises(StudioError, match="3-D model; this model has 16"):
        session.load_directions(p, 16)


def test_a_direction_told_to_keep_the_upper_face_changes_the_lower_face_only(fm):
    faces = make_faces(60, seed=7)
    imgs = [f[0].numpy() for f in faces.images]
    mu, _ = fm.encode_images(imgs)
    order = np.argsort([im.mean() for im in imgs])
    d = directions.Direction.from_groups("brighter", mu[order[30:]], mu[order[:30]])
    kept = d.keeping("upper", fm.keep_still(d.vector, "upper"))
    start = mu[order[30]]
    base, plain, still = fm.decode(np.stack([start, d.apply(start, 1.5),
                                             kept.apply(start, 1.5)])).astype(float)
    h = base.shape[0] // 2

    def change(face, rows):
        return np.abs(face[rows] - base[rows]).mean()

    top, bottom = slice(0, h), slice(h, None)
    # the plain direction brightens the whole face; the kept one changes the upper half less
    # and the lower half more than it (a 4-D model has little room: the 128-D default cuts the
    # eyes' change by two thirds, python -m studio.benchmarks.directions)
    assert change(still, top) < 0.8 * change(plain, top)
    assert (change(still, bottom) / change(still, top)
            > 1.5 * change(plain, bottom) / change(plain, top))
    assert still[bottom].mean() > base[bottom].mean() + 3
    # the file keeps what it keeps
    back = directions.Direction.from_dict(json.loads(json.dumps(kept.to_dict())))
    assert back.keep == "upper" and np.allclose(back.apply(start, 1.0), kept.apply(start, 1.0))
    session.check_direction(kept.to_dict(), "direction", fm.latent_dim)
    with pytest.raises(ValueError, match="keep must be one of"):
        directions.Direction.from_dict({**kept.to_dict(), "keep": "ears"})


def test_what_a_direction_keeps_still_is_worked_out_again_for_new_weights(tiny_model_path):
    """A training snapshot swaps the weights of the engine's FaceModel in place: the decoder's
    sensitivities must follow the new file, not stay cached from the old one."""
    from studio.engine.checkpoint import load_model_file

    fm = FaceModel.open(tiny_model_path)
    before = fm.region_grams("upper")[0].copy()
    assert fm.region_grams("upper")[0] is fm.region_grams("upper")[0]  # cached meanwhile
    from dataclasses import replace

    mf = load_model_file(tiny_model_path)
    mf = replace(mf, state_dict={k: v * 1.5 if v.is_floating_point() else v
                                 for k, v in mf.state_dict.items()})
    fm.model.load_state_dict(mf.state_dict)
    fm.file = mf
    after = fm.region_grams("upper")[0]
    assert not np.allclose(before, after)
