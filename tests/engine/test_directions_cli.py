"""Directions from the command line: made from two groups, with their separation; applied to
photos as an edit or a strip; refused in one line when the input is wrong."""

import json

import numpy as np
import pytest
from PIL import Image

from studio import cli
from studio.engine.directions import Direction, auc, separation
from tests.conftest import make_faces


def test_auc_counts_how_often_the_first_group_scores_higher():
    assert auc([3, 4, 5], [0, 1, 2]) == 1.0
    assert auc([0, 1], [2, 3]) == 0.0
    assert auc([1, 2], [1, 2]) == 0.5
    rng = np.random.default_rng(0)
    apart = separation(rng.normal(2, 1, (60, 4)), rng.normal(0, 1, (60, 4)))
    mixed = separation(rng.normal(0, 1, (60, 4)), rng.normal(0, 1, (60, 4)))
    assert apart > 0.85 and 0.3 < mixed < 0.7


def test_holding_a_direction_leaves_it_unchanged_and_keeps_the_named_strength():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, (80, 6)), rng.normal(0, 1, (80, 6))
    a[:, 0] += 2
    a[:, 1] += 1  # the groups also differ along another attribute
    other = Direction("other", np.eye(6)[1])
    d = Direction.from_groups("x", a, b, hold=[other])
    moved = d.apply(np.zeros(6), 1.0)
    assert abs(moved @ other.vector) < 1e-9  # nothing along the held direction
    assert moved @ d.vector == pytest.approx(d.vector @ d.vector)  # as far along the named one
    back = Direction.from_dict(json.loads(json.dumps(d.to_dict())))
    assert np.allclose(back.apply(np.zeros(6), 1.0), moved) and back.auc == pytest.approx(d.auc)


def test_a_small_group_is_warned_about():
    rng = np.random.default_rng(2)
    d = Direction.from_groups("few", rng.normal(1, 1, (5, 3)), rng.normal(0, 1, (40, 3)))
    assert "only 5 faces" in d.warning


@pytest.fixture
def groups(tmp_path):
    """Bright faces and dark faces, as two folders of photos."""
    faces = make_faces(24, size=16)
    plus, minus = tmp_path / "bright", tmp_path / "dark"
    plus.mkdir()
    minus.mkdir()
    order = np.argsort(faces.images.float().mean((1, 2, 3)).numpy())
    for i in order[:10]:
        Image.fromarray(faces.images[i, 0].numpy()).save(minus / f"{i}.png")
    for i in order[-10:]:
        Image.fromarray(faces.images[i, 0].numpy()).save(plus / f"{i}.png")
    return plus, minus


def test_direction_and_edit_from_the_command_line(tiny_model_path, groups, tmp_path, capsys):
    plus, minus = groups
    out = tmp_path / "bright.json"
    # the photos one by one (their names run past the file's 200 characters for a group)
    assert cli.main(["direction", str(tiny_model_path), "--plus", *map(str, sorted(plus.iterdir())),
                     "--minus", str(minus), "--name", "bright", "--out", str(out)]) == 0
    said = capsys.readouterr()
    assert "separation AUC" in said.out and "only 10 faces" in said.err
    d = json.loads(out.read_text())
    assert d["directions"][0]["name"] == "bright" and d["directions"][0]["sizes"] == [10, 10]
    assert d["directions"][0]["positive"].endswith("more")
    photo = sorted(minus.iterdir())[0]
    strip = tmp_path / "strips"
    assert cli.main(["edit", str(tiny_model_path), str(photo), "--direction", str(out),
                     "--amounts", "-2,0,2", "--out", str(strip), "--scale", "1"]) == 0
    img = np.asarray(Image.open(strip / f"{photo.stem}-bright.png"))
    assert img.shape[1] == 3 * 16 + 2  # three faces of 16 px in a row, 1 px apart
    one = tmp_path / "one.png"
    assert cli.main(["edit", str(tiny_model_path), str(photo), "--direction", str(out),
                     "--amount", "2", "--out", str(one), "--scale", "1"]) == 0
    # the edit made the face brighter, as the direction says
    faces = [np.asarray(Image.open(p)).astype(float) for p in (one,)]
    base = tmp_path / "base.png"
    cli.main(["edit", str(tiny_model_path), str(photo), "--direction", str(out),
              "--amount", "0", "--out", str(base), "--scale", "1"])
    assert faces[0].mean() > np.asarray(Image.open(base)).astype(float).mean() + 3


@pytest.mark.parametrize("args, words", [
    (["--amount", "much"], "'much' is not a number"),
    (["--amounts", "1,x"], "'x' is not a number"),
])
def test_edit_refuses_a_bad_amount_in_one_line(tiny_model_path, tmp_path, capsys, args, words):
    with pytest.raises(SystemExit) as e:
        cli.main(["edit", str(tiny_model_path), "p.png", "--direction", "d.json",
                  "--out", str(tmp_path / "o"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err) == 1 and words in err[0]


def test_direction_refuses_an_empty_group_and_a_foreign_size(tiny_model_path, groups, tmp_path,
                                                            capsys):
    plus, _ = groups
    empty = tmp_path / "empty"
    empty.mkdir()
    rc = cli.main(["direction", str(tiny_model_path), "--plus", str(plus), "--minus", str(empty),
                   "--name", "x", "--out", str(tmp_path / "x.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and str(empty) in err[0]
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "face-studio-directions", "version": 1,
                                 "latent_dim": 7, "directions": []}))
    rc = cli.main(["edit", str(tiny_model_path), str(sorted(plus.iterdir())[0]), "--direction",
                   str(other), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "7-D model" in err[0]
