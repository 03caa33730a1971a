"""Keeping a loaded photo its person, with the shipped default and built-in faces of people it
never saw: the kept face is nearer the photo than the encoder's, a morph starts and ends exactly
on the kept faces, everything painted away from a kept photo is the model's own face, and what
keeping made survives a session's round trip while hostile kept data is refused in one line."""

import json
import threading

import numpy as np
import pytest
from skimage import data as sk

from studio.engine import kept as kept_mod
from studio.engine import latent, session
from studio.engine.errors import StudioError
from studio.engine.fields import SchemaError
from studio.engine.inference import FaceModel
from studio.engine.keep_job import KeepingJob
from studio.engine.keeping import Keeper, KeepSettings, fingerprint, tail_shapes
from studio.engine.requests import PhotoKept


def psnr(a, b) -> float:
    return float(10 * np.log10(255 ** 2 / np.mean((a.astype(float) - b.astype(float)) ** 2)))


@pytest.fixture(scope="module")
def default():
    return FaceModel.open("default")


@pytest.fixture(scope="module")
def faces(default, tmp_path_factory):
    """Two built-in LFW faces written as photos and described by the default (as a person who
    opens them would see them), with what keeping made of each."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("faces")
    lfw = sk.lfw_subset()
    photos, kepts = [], []
    keeper = default.keeper()
    for i in (3, 42):
        p = folder / f"face{i}.png"
        Image.fromarray((lfw[i] * 255).astype(np.uint8)).convert("RGB").save(p)
        ph = default.encode_photo(p)
        photos.append(ph)
        kepts.append(keeper.keep(ph.framed, ph.mu))
    return photos, kepts


def test_keeping_paints_the_photo_closer_than_the_encoder(default, faces):
    photos, kepts = faces
    for ph, k in zip(photos, kepts):
        kept_face = default.decode(k.z, kept_mod.only(k))[0]
        encoder = psnr(ph.reconstruction, ph.framed)
        kept = psnr(kept_face, ph.framed)
        assert kept >= encoder + 5, (encoder, kept)
        assert abs(kept - k.psnr_db) < 0.05  # what it says is what it paints
        assert k.nbytes <= kept_mod.MAX_BYTES  # about 400 KB: thirty photos are not 500 MB


def test_painting_away_from_a_kept_photo_is_the_models_own_face(default, faces):
    z = np.random.default_rng(0).standard_normal((4, default.latent_dim))
    before = default.decode(z)
    photos, kepts = faces
    fresh = FaceModel.open("default")
    assert np.array_equal(fresh.decode(z), before)  # keeping changed no weight
    assert fingerprint(default.model) == kepts[0].model
    # and a kept photo's tail is only used where that photo is painted
    assert not np.array_equal(default.decode(z[0], kept_mod.only(kepts[0])), before[:1])


def test_the_morphs_ends_are_the_kept_faces_and_its_frames_are_smooth(default, faces):
    photos, kepts = faces
    keys = np.stack([k.z for k in kepts]).astype(np.float64)
    frames = 59
    z = latent.path(keys, frames, "lerp")
    w = latent.path_weights(2, frames, "linear")
    morph = np.concatenate([default.decode(f, kept_mod.between(r, kepts)) for f, r in zip(z, w)])
    for end, k in ((morph[0], kepts[0]), (morph[-1], kepts[1])):
        assert np.array_equal(end, default.decode(k.z, kept_mod.only(k))[0])
    steps = [psnr(a, b) for a, b in zip(morph[:-1], morph[1:])]
    assert min(steps) >= 28, min(steps)
    # its middle is neither end, nor the two photos cross-faded
    mid = morph[frames // 2].astype(float)
    dissolve = (photos[0].framed.astype(float) + photos[1].framed) / 2
    assert psnr(mid, dissolve) < 40


def test_a_kept_face_made_for_other_weights_is_painted_without_its_tail(default, faces):
    _, kepts = faces
    k = kepts[0]
    alien = kept_mod.Kept(k.z, k.offsets, k.psnr_db, "another-model", k.photo)
    z = k.z.astype(np.float64)
    assert np.array_equal(default.decode(z, kept_mod.only(alien)), default.decode(z))


def test_a_kept_face_survives_a_session_round_trip(default, faces, tmp_path):
    photos, kepts = faces
    s = session.Session(photos=tuple(p.path for p in photos),
                        kept={p.path: k.to_dict() for p, k in zip(photos, kepts)})
    path = session.save_session(tmp_path / "s.json", s)
    back = session.load_session(path)
    shapes = tail_shapes(default.model)
    for p, k in zip(photos, kepts):
        again = kept_mod.Kept.from_dict(back.kept[p.path], shapes, default.latent_dim,
                                        default.weights(), kept_mod.photo_print(p.framed))
        assert np.array_equal(again.z, k.z)
        for (n, a), (m, b) in zip(again.offsets, k.offsets):
            assert n == m and np.array_equal(a, b)
        assert np.array_equal(default.decode(again.z, kept_mod.only(again)),
                              default.decode(k.z, kept_mod.only(k)))


def _hostile(d: dict, what: str) -> dict:
    d = json.loads(json.dumps(d))
    name = next(iter(d["offsets"]))
    if what == "shape":
        d["offsets"][name]["shape"] = [1, 2, 3]
    elif what == "base64":
        d["offsets"][name]["float16"] = "not base64 at all!"
    elif what == "short":
        d["offsets"][name]["float16"] = d["offsets"][name]["float16"][:8]
    elif what == "model":
        d["model"] = "0123456789abcdef"
    elif what == "picture":
        d["photo"] = "fedcba9876543210"
    elif what == "shape-not-a-list":
        d["offsets"][name]["shape"] = 5
    elif what == "nan":
        d["z"][0] = float("nan")
    elif what == "extra":
        d["offsets"]["decoder.99.weight"] = d["offsets"][name]
    elif what == "huge":
        d["offsets"][name]["float16"] = "A" * (8 << 20)
    return d


@pytest.mark.parametrize("what", ["shape", "base64", "short", "model", "picture", "nan", "extra",
                                  "huge", "shape-not-a-list"])
def test_hostile_kept_data_is_refused_in_one_line(default, faces, what):
    _, kepts = faces
    bad = _hostile(kepts[0].to_dict(), what)
    with pytest.raises(SchemaError) as e:
        kept_mod.Kept.from_dict(bad, tail_shapes(default.model), default.latent_dim,
                                default.weights(), kepts[0].photo)
    assert "\n" not in str(e.value) and str(e.value)


def test_a_sessions_kept_block_that_is_not_a_table_refuses_it_in_one_line(tmp_path, faces):
    photos, kepts = faces
    d = session.Session(photos=(photos[0].path,),
                        kept={photos[0].path: kepts[0].to_dict()}).to_dict()
    d["kept"]["/somewhere/else.jpg"] = d["kept"][photos[0].path]  # a photo it does not load
    p = tmp_path / "s.json"
    p.write_text(json.dumps(d))
    assert set(session.load_session(p).kept) == {photos[0].path}  # left out, the rest loads
    d["kept"] = ["not", "a", "table"]
    p.write_text(json.dumps(d))
    with pytest.raises(StudioError) as e:
        session.load_session(p)
    assert "\n" not in str(e.value) and "kept" in str(e.value)


def test_the_keeping_thread_keeps_the_newest_request_and_forgets_what_is_gone(default, faces):
    photos, kepts = faces
    got = []
    done = threading.Event()

    def emit(ev):
        got.append(ev)
        done.set()

    job = KeepingJob(emit)
    try:
        brief = Keeper(default.model, KeepSettings(z_steps=2, tune_steps=2))
        job.submit(default.keeper(), [photos[0], photos[1]])
        job.forget([photos[0].path])  # removed while waiting or being kept: never answered
        job.submit(brief, [photos[1]])  # asked again, another way: the newer request wins
        assert done.wait(60)
    finally:
        assert job.stop(5)
    assert [(type(e), e.path) for e in got] == [(PhotoKept, photos[1].path)]
    # the brief keeping's face (4 steps), not the full one's
    assert got[0].kept.psnr_db < kepts[1].psnr_db - 3
    assert got[0].face.shape == photos[1].framed.shape


def test_an_edit_of_a_kept_face_moves_it_as_the_model_moves_its_own(default, faces):
    _, kepts = faces
    k = kepts[0]
    only = kept_mod.only(k)
    z = k.z.astype(np.float64)
    step = np.random.default_rng(1).standard_normal(default.latent_dim) * 0.4
    assert np.array_equal(default.decode(z, only, z), default.decode(z, only))  # no edit yet
    edited = default.decode(z + step, only, z)[0].astype(int)
    kept_face = default.decode(z, only)[0].astype(int)
    own_change = default.decode(z + step)[0].astype(int) - default.decode(z)[0].astype(int)
    assert np.abs(own_change).mean() > 3  # an edit a person sees
    # the kept face, changed where and as the model's own face changes (to rounding and clipping)
    assert np.abs((edited - kept_face) - own_change).mean() < 1.0


def test_keeping_holds_still_while_a_person_waits_on_a_face(default, faces):
    import time

    photos, _ = faces
    got = threading.Event()
    job = KeepingJob(lambda ev: got.set())
    try:
        brief = Keeper(default.model, KeepSettings(z_steps=1, tune_steps=1))
        job.hold(1.0)  # a person's paint, just asked
        began = time.monotonic()
        job.submit(brief, [photos[0]])
        assert got.wait(30)  # kept all the same, once the hold is over
        assert time.monotonic() - began >= 0.9
    finally:
        assert job.stop(5)
