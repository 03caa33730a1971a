"""The training settings, declared once (studio.settings): the command line's flags, a training
request's fields and checks, and a run's config are made from the declarations, and say the same
thing about each setting."""

import dataclasses

import pytest

from studio import settings
from studio.cli_args import build_parser
from studio.engine.errors import StudioError
from studio.engine.requests import TrainRequest
from studio.engine.train_config import TrainConfig


def _help(capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "10000")  # one line per flag: no word broken at a hyphen
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    return " ".join(capsys.readouterr().out.split())


def _refused(argv, capsys) -> str:
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["train", "builtin", "--out", "x.pt", *argv])
    assert e.value.code == 2
    return capsys.readouterr().err


def _out_of_bounds(s: settings.Setting):
    """A value of the setting's type that its bounds or choices refuse, or None."""
    if s.choices:
        return "nowhere" if s.type is str else 2
    if s.lo is not None:
        low = s.lo if s.above else s.lo - 1
        return (low,) if s.type is tuple else s.type(low)
    return None


def test_every_asked_setting_is_a_flag_with_its_declared_help(capsys, monkeypatch):
    text = _help(capsys, monkeypatch)
    for s in settings.asked():
        assert s.flag in text, s.name
        assert " ".join(s.help().split()) in text, s.name
    assert "--lr-final" not in text and "--kl-warmup-steps" not in text  # not asked
    # what a run given no epochs does, said once and read by the help
    assert settings.ZERO_EPOCHS in text


@pytest.mark.parametrize("s", [s for s in settings.asked() if _out_of_bounds(s) is not None],
                         ids=lambda s: s.name)
def test_a_value_out_of_a_settings_bounds_is_refused_by_the_flag_and_the_request(s, capsys):
    bad = _out_of_bounds(s)
    text = ",".join(map(str, bad)) if isinstance(bad, tuple) else str(bad)
    assert s.flag in _refused([s.flag, text], capsys)
    with pytest.raises(StudioError, match=f"^{s.name} must "):
        TrainRequest(data="builtin", **{s.name: bad})


def test_the_command_line_builds_its_request_from_the_declarations():
    a = build_parser().parse_args(["train", "builtin", "--out", "x.pt", "--latent-dim", "8",
                                   "--widths", "8,16", "--framing", "face", "--stream",
                                   "--max-seconds", "30", "--lr-schedule", "constant"])
    r = TrainRequest(data=a.data, **settings.asked_values(vars(a)))
    assert (r.latent_dim, r.widths, r.framing, r.stream, r.max_seconds, r.lr_schedule) == (
        8, (8, 16), "face", True, 30.0, "constant")
    # a flag not given: the request's own default, so the run decides (or the resumed model)
    given_none = TrainRequest(data="builtin")
    for s in settings.asked():
        if s.name not in ("latent_dim", "widths", "framing", "stream", "max_seconds",
                          "lr_schedule"):
            assert getattr(r, s.name) == getattr(given_none, s.name), s.name


def test_requests_and_run_configs_hold_a_field_per_declared_setting():
    request = {f.name: f for f in dataclasses.fields(TrainRequest)}
    config = {f.name: f for f in dataclasses.fields(TrainConfig)}
    for s in settings.asked():
        # the build and the run: None is the default (or the resumed model's)
        assert request[s.name].default == (None if s.part in settings.UNSET_ON_REQUEST
                                           else s.default), s.name
    for s in settings.TRAIN.values():
        assert config[s.name].default == s.default, s.name
    with pytest.raises(StudioError, match="^lr_final must be greater than 0, not 0$"):
        TrainConfig(lr_final=0.0)
    with pytest.raises(StudioError, match="^kl_warmup_steps must be 0 or more, not -1$"):
        TrainConfig(kl_warmup_steps=-1)


def test_zero_epochs_and_zero_seconds_are_not_values_and_unset_is_one_rule(capsys):
    """0 epochs never means two things: the flag and the request refuse it; unset (no flag,
    None, the panel's 0) trains until the time budget, or the default epochs without one."""
    assert "0 must be at least 1" in _refused(["--epochs", "0"], capsys)
    assert "0 must be greater than 0" in _refused(["--max-seconds", "0"], capsys)
    with pytest.raises(StudioError, match="^epochs must be at least 1, not 0$"):
        TrainRequest(data="builtin", epochs=0)
    assert settings.run_length(None, None) == (settings.SETTINGS["epochs"].default, None)
    assert settings.run_length(None, 30.0) == (None, 30.0)
    assert settings.run_length_words(0, 0) == f"{settings.SETTINGS['epochs'].default} epochs"


def test_a_request_takes_a_numbered_gpu_that_no_flag_offers(capsys):
    assert TrainRequest(data="builtin", device="cuda:1").device == "cuda:1"
    assert "invalid choice" in _refused(["--device", "cuda:1"], capsys)
