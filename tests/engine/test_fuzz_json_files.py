"""Sessions, directions files and the stream cache's index from strangers: one field changed at
a time, each case loads or is refused in one line naming the file (and the field), within a
memory budget. Nothing else may escape."""

import copy
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.engine import session, stream
from studio.engine.directions import Direction
from studio.engine.errors import StudioError
from tests.conftest import peak_rss_mb

DIM = 4
WEIRD = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12),
    st.sampled_from([10**9, 10**18, 10**400, -1, 0, 2, 4097, 10_000_000]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.just("x" * 100_000), st.just([0.5] * 200_000),
    st.lists(st.integers(min_value=-5, max_value=10**8), max_size=4),
    st.lists(st.floats(allow_nan=True), min_size=1, max_size=5),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    st.lists(st.lists(st.integers(), max_size=2), max_size=2),
)


def _direction(name="smiling"):
    return Direction(name, np.arange(1.0, DIM + 1), "a", "b", 0.9, (30, 30),
                     (Direction("age", np.ones(DIM)),)).to_dict()


def _session(tmp_path):
    return {
        "format": session.FORMAT, "version": 1,
        "model": {"path": str(tmp_path / "m.pt"), "sha256": "0" * 64},
        "photos": [str(tmp_path / "a.png"), str(tmp_path / "b.png")],
        "keyframes": [{"label": "a.png", "z": [0.1] * DIM, "photo": str(tmp_path / "a.png")},
                      {"label": "painted face", "z": [0.2] * DIM}],
        "directions": [_direction()], "current_z": [0.0] * DIM,
        "view": {"axes": [0, 1], "x": [-1.0, 1.0], "y": [-2.0, 2.0]},
        "settings": {"frames": 24, "fps": 25, "path": "lerp", "easing": "linear", "loop": False,
                     "a": 0, "b": 1, "selected": 0, "mosaic": True},
    }


SESSION_FIELDS = [("format",), ("version",), ("model",), ("model", "path"), ("model", "sha256"),
                  ("photos",), ("photos", 0), ("keyframes",), ("keyframes", 0),
                  ("keyframes", 0, "z"), ("keyframes", 0, "label"), ("keyframes", 1, "photo"),
                  ("directions",), ("directions", 0), ("directions", 0, "vector"),
                  ("directions", 0, "name"), ("directions", 0, "auc"), ("directions", 0, "sizes"),
                  ("directions", 0, "hold"), ("directions", 0, "hold", 0, "vector"),
                  ("current_z",), ("view",), ("view", "axes"), ("view", "x"), ("settings",),
                  ("settings", "frames"), ("settings", "a"), ("settings", "loop"), ("extra",)]
DIRECTIONS_FIELDS = [("format",), ("version",), ("latent_dim",), ("directions",),
                     ("directions", 0), ("directions", 0, "vector"), ("directions", 0, "name"),
                     ("directions", 0, "hold"), ("directions", 0, "sizes"), ("extra",)]


def _mutate(d, path, value, drop):
    d = copy.deepcopy(d)
    box = d
    for k in path[:-1]:
        box = box[k]
    if drop:
        if isinstance(box, dict):
            box.pop(path[-1], None)
        else:
            del box[path[-1]]
    else:
        box[path[-1]] = value
    return d


def _one_line_or_loads(load, p):
    before = peak_rss_mb()
    try:
        out = load(p)
    except StudioError as e:
        msg = str(e)
        assert "\n" not in msg and str(p) in msg, msg
        out = None
    assert peak_rss_mb() - before < 500
    return out


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(SESSION_FIELDS), value=WEIRD, drop=st.booleans())
def test_a_session_with_one_changed_field_loads_or_is_refused_in_one_line(tmp_path, field, value,
                                                                          drop):
    p = tmp_path / "s.json"
    p.write_text(json.dumps(_mutate(_session(tmp_path), field, value, drop)))
    s = _one_line_or_loads(session.load_session, p)
    if s is not None:  # what loads is usable: vectors of finite numbers, text where text goes
        assert all(np.all(np.isfinite(k.z)) for k in s.keyframes)
        assert all(isinstance(ph, str) for ph in s.photos)
        assert all(np.all(np.isfinite(d.effective)) for d in s.directions
                   if len(d.vector) == DIM and all(len(h.vector) == DIM for h in d.held))


@settings(max_examples=200, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(DIRECTIONS_FIELDS), value=WEIRD, drop=st.booleans())
def test_a_directions_file_with_one_changed_field_loads_or_is_refused_in_one_line(
        tmp_path, field, value, drop):
    good = {"format": session.DIRECTIONS_FORMAT, "version": 1, "latent_dim": DIM,
            "directions": [_direction(), _direction("age")]}
    p = tmp_path / "d.json"
    p.write_text(json.dumps(_mutate(good, field, value, drop)))
    dirs = _one_line_or_loads(lambda q: session.load_directions(q, DIM), p)
    if dirs is not None:
        assert all(len(d.vector) == DIM and np.all(np.isfinite(d.vector)) for d in dirs)


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,                      # nested too deeply for the parser
    '{"format": "face-studio-session", "current_z": [' + "9" * 5000 + "]}",  # a huge integer
    '{"format": "face-studio-session", "current_z": [NaN, 1]}',
    '{"format": "face-studio-session", "keyframes": [{"z": [1e999]}]}',
    "\xff\xfe not text",
])
def test_hostile_json_texts_are_one_line(tmp_path, text):
    p = tmp_path / "s.json"
    p.write_bytes(text.encode("latin-1"))
    for load in (session.load_session, lambda q: session.load_directions(q, DIM)):
        with pytest.raises(StudioError) as e:
            load(p)
        assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from studio.engine import fields

    monkeypatch.setattr(fields, "MAX_JSON_BYTES", 1000)
    p = tmp_path / "s.json"
    p.write_text(json.dumps(_session(tmp_path)) + " " * 2000)
    with pytest.raises(StudioError, match="too large"):
        session.load_session(p)


@pytest.fixture(scope="module")
def cached_folder(tmp_path_factory):
    from PIL import Image

    folder = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (20, 20), dtype=np.uint8)).save(folder / f"{i}.png")
    cache = tmp_path_factory.mktemp("cache")
    stream.FolderFaces(folder, 16, 1, framing="none", cache=cache)
    return folder, cache


INDEX_FIELDS = [("format",), ("folder",), ("images",), ("files_sha256",), ("image_size",),
                ("channels",), ("framing",), ("crop",), ("extra",)]


@settings(max_examples=120, derandomize=True, deadline=None)
@given(field=st.sampled_from(INDEX_FIELDS), value=WEIRD, drop=st.booleans())
def test_a_cache_index_with_one_changed_field_is_not_trusted(cached_folder, field, value, drop):
    folder, cache = cached_folder
    index = cache / "index.json"
    good = json.loads(index.read_text())
    try:
        index.write_text(json.dumps(_mutate(good, field, value, drop)))
        changed = json.loads(index.read_text()) != good
        # a reader that may not make the cache: a foreign index is one line, never trusted
        try:
            ds = stream.FolderFaces(folder, 16, 1, framing="none", cache=cache,
                                    create_cache=False)
            assert not changed and ds.cached() >= 0
        except StudioError as e:
            assert changed and str(cache) in str(e) and "\n" not in str(e)
    finally:
        index.write_text(json.dumps(good))


def test_a_cache_array_swapped_beside_a_good_index_is_refused(cached_folder):
    folder, cache = cached_folder
    faces = cache / "faces.npy"
    keep = faces.read_bytes()
    try:
        np.save(faces, np.zeros((2, 3), np.float64))
        with pytest.raises(StudioError, match="faces.npy.*index says uint8"):
            stream.FolderFaces(folder, 16, 1, framing="none", cache=cache).cached()
    finally:
        faces.write_bytes(keep)


def test_a_sessions_axes_are_those_the_map_offers_and_others_are_named(tmp_path):
    """Every axes the map's box offers loads from a session as the same Axes; a value that is
    no axes is refused in one line naming what is wrong with it."""
    from studio.engine.maps import Axes, offered

    p = tmp_path / "s.json"
    for axes in offered(8, has_atlas=True) + offered(2, has_atlas=False):
        d = _session(tmp_path)
        d["view"]["axes"] = axes.to_json()
        p.write_text(json.dumps(d))
        assert Axes.from_json(session.load_session(p).view["axes"]) == axes
    for axes, words in (("dims", "view.axes must be a list, not str"),
                        ([0], 'view.axes must be "atlas", "pca", "latent" or two latent dims'),
                        ([0, 1, 2], "view.axes must hold at most 2 entries"),
                        ([-1, 0], "view.axes[0] must be between 0 and 4095"),
                        ([0, True], "view.axes[1] must be a whole number, not bool")):
        d = _session(tmp_path)
        d["view"]["axes"] = axes
        p.write_text(json.dumps(d))
        with pytest.raises(StudioError) as e:
            session.load_session(p)
        assert str(e.value).endswith(words), (axes, str(e.value))
