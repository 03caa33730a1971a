"""A model file from a stranger: one field changed at a time, each case loads or is refused in
one line naming the field, within a memory budget. Nothing else may escape."""

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio import settings as declared  # hypothesis has its own `settings`
from studio.engine.checkpoint import load_model_file
from studio.engine.errors import ModelFileError
from tests.conftest import peak_rss_mb

WEIRD = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12),
    st.sampled_from([10**9, 10**18, -1, 0, 2, 4097, 10_000_000]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.lists(st.integers(min_value=-5, max_value=10**8), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    st.lists(st.lists(st.integers(), max_size=2), max_size=2),
)
FIELDS = [("config", k) for k in ("image_size", "channels", "latent_dim", "widths", "likelihood",
                                  "sigma", "beta", "norm", "extra")] + \
         [(k, None) for k in ("config", "history", "dataset", "train_mu", "train_state", "meta",
                              "state_dict")] + [("dataset", "crop"), ("dataset", "examples")]


@pytest.fixture(scope="module")
def raw(tiny_model_path):
    return torch.load(tiny_model_path, weights_only=True)


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), value=WEIRD, drop=st.booleans())
def test_one_changed_field_loads_or_is_refused_in_one_line(raw, tmp_path, field, value, drop):
    top, key = field
    d = dict(raw)
    if key is None:
        if drop:
            d.pop(top, None)
        else:
            d[top] = value
    else:
        inner = dict(d.get(top) or {})
        if drop:
            inner.pop(key, None)
        else:
            inner[key] = value
        d[top] = inner
    p = tmp_path / "stranger.pt"
    torch.save(d, p)
    before = peak_rss_mb()
    try:
        mf = load_model_file(p)
    except ModelFileError as e:
        msg = str(e)
        assert "\n" not in msg and str(p) in msg and len(msg) < 300
    else:  # what loads must be usable: a network of the stated size with finite weights
        model = mf.build()
        assert all(torch.isfinite(v).all() for v in model.state_dict().values()
                   if v.is_floating_point())
        assert not math.isnan(mf.config.sigma)
    assert peak_rss_mb() - before < 500


@pytest.mark.parametrize("change, words", [
    ({"widths": [32, 64, 10_000_000]}, "config.widths[2] must be between 1 and 4096"),
    ({"image_size": "32"}, "config.image_size must be a whole number"),
    ({"latent_dim": 10**9}, "config.latent_dim must be between"),
    ({"widths": [4096, 4096, 4096]}, "weights, more than the"),
])
def test_the_attacks_of_the_issue_get_a_message_naming_the_field(raw, tmp_path, change, words):
    d = dict(raw)
    d["config"] = {**raw["config"], **change}
    p = tmp_path / "bad.pt"
    torch.save(d, p)
    with pytest.raises(ModelFileError, match=words.replace("[", r"\[").replace("]", r"\]")):
        load_model_file(p)


def test_a_history_or_dataset_of_the_wrong_type_is_refused(raw, tmp_path):
    for key, value, words in (("history", "not a list", "history must be a list"),
                              ("dataset", 5, "dataset must be a table")):
        p = tmp_path / f"{key}.pt"
        torch.save({**raw, key: value}, p)
        with pytest.raises(ModelFileError, match=words):
            load_model_file(p)


def test_a_file_is_held_to_the_training_settings_bounds_and_defaults(raw, tmp_path):
    """A model file's build is checked against the declarations a training request is checked
    against (studio.settings): just past a declared top is refused naming the field; a file
    written before sigma and beta existed is built with their declared defaults."""
    build = declared.BUILD
    for change, words in (({"beta": build["beta"].hi * 2}, "config.beta must be between"),
                          ({"widths": [build["widths"].hi + 1]}, "config.widths[0] must be "
                                                                  "between 1 and 4096"),
                          ({"channels": 2}, "config.channels must be 1 or 3")):
        p = tmp_path / "bad.pt"
        torch.save({**raw, "config": {**raw["config"], **change}}, p)
        with pytest.raises(ModelFileError, match=words.replace("[", r"\[").replace("]", r"\]")):
            load_model_file(p)
    old = {k: v for k, v in raw["config"].items() if k not in ("sigma", "beta")}
    p = tmp_path / "old.pt"
    torch.save({**raw, "config": old}, p)
    config = load_model_file(p).config
    assert (config.sigma, config.beta) == (build["sigma"].default, build["beta"].default)
