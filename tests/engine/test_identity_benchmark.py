"""The identity benchmark runs end to end with its judge (dlib's face-recognition model, the
`judge` extra, which CI installs) on a handful of built-in faces: four "people", each a built-in
face and the same face moved a little and lit otherwise as their "other photo"."""

import json

import numpy as np
import pytest
from PIL import Image, ImageEnhance
from skimage import data as sk

pytest.importorskip("dlib", reason="the judge extra: pip install -e '.[judge]'")


def _people(folder, faces=(3, 11, 42, 77)):
    lfw = sk.lfw_subset()
    for i in faces:
        person = folder / f"person{i}"
        person.mkdir()
        img = Image.fromarray((lfw[i] * 255).astype(np.uint8)).convert("RGB").resize((100, 100))
        img.save(person / "a.png")
        other = ImageEnhance.Brightness(img.rotate(4, translate=(2, 1))).enhance(1.15)
        other.save(person / "b.png")


def test_the_identity_benchmark_reports_every_figure(tmp_path, capsys):
    from studio.benchmarks import identity

    _people(tmp_path)
    sheet = tmp_path / "sheet.png"
    assert identity.main(["--model", "default", "--held", str(tmp_path), "--pairs", "2",
                          "--sheet", str(sheet), "--json"]) == 0
    r = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(r) >= {"photo", "encoder", "kept", "morph"}
    for k in ("photo", "encoder", "kept"):
        assert set(r[k]) >= {"self", "other", "rank1", "psnr"}
    assert r["photo"]["self"] == 1.0
    # kept: nearer its photo than the encoder's face, in pixels and to the judge
    assert r["kept"]["psnr"] > r["encoder"]["psnr"] + 5
    assert r["kept"]["self"] >= r["encoder"]["self"]
    assert 0 < r["kept"]["bytes_per_photo"] <= 1 << 20 and r["kept"]["seconds_per_photo"] > 0
    m = r["morph"]
    assert m["pairs"] >= 2 and set(m) >= {"encoder_both", "kept_both", "dissolve_both"}
    assert m["kept_smooth_p5_db"] > 20
    assert Image.open(sheet).size[0] > Image.open(sheet).size[1]  # rows of photo / encoder / kept
