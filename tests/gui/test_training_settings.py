"""The Training panel's boxes are made from the training settings' declarations (studio.settings),
and a setting declared once appears as a flag, in a request's checks and as a box in the panel."""

import json
import os
import subprocess
import sys
import textwrap

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox

from studio import settings
from studio.gui.training_panel import TrainingPanel


def test_each_shown_setting_is_a_box_with_its_declared_bounds_words_and_default(qtbot):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    assert list(panel.fields) == [s.name for s in settings.shown()]
    for s in settings.shown():
        box = panel.fields[s.name].widget
        assert box.toolTip().startswith(s.shown.tip), s.name
        if isinstance(box, QCheckBox):
            assert box.text() == s.shown.label and box.isChecked() == s.default
        elif isinstance(box, QComboBox):
            values = [box.itemData(i) for i in range(box.count())]
            assert sorted(values) == sorted(s.choices), s.name  # each choice, once
            assert s.shown.items or values == list(s.choices), s.name  # in the declared order
            assert box.currentData() == s.default
        else:
            top = s.hi if s.hi is not None else s.shown.top
            bottom = 0 if s.shown.zero else s.lo
            assert (box.minimum(), box.maximum()) == (bottom, top), s.name
            assert box.specialValueText() == s.shown.zero, s.name
        if s.unset:  # what leaving it unset does, as the flag's help says it
            assert s.if_unset in box.toolTip()
    # the colour box offers colour first, as it always has; the flag keeps its order (1, 3)
    colour = panel.fields["channels"].widget
    assert [colour.itemText(i) for i in range(colour.count())] == ["colour", "grey"]
    assert [colour.itemData(i) for i in range(colour.count())] == [3, 1]
    assert settings.SETTINGS["channels"].choices == (1, 3)
    # each framing's word on it, in its item's tooltip
    framing = panel.fields["framing"].widget
    assert framing.itemData(framing.findData("aligned"), Qt.ToolTipRole) == \
        settings.SETTINGS["framing"].choices["aligned"]
    # a request of the panel's defaults: the declared ones (0 epochs or seconds: unset)
    r = panel.request()
    declared = settings.SETTINGS
    assert (r.latent_dim, r.epochs, r.max_seconds, r.device, r.stream) == (
        declared["latent_dim"].default, declared["epochs"].default, None, "auto", False)
    panel.budget.setValue(30)
    panel.epochs.setValue(0)
    assert (panel.request().epochs, panel.request().max_seconds) == (None, 30.0)


ONE_EDIT = textwrap.dedent("""
    import contextlib, io, json
    from studio import settings

    # the one edit: a setting declared
    settings.declare(settings.Setting(
        "warmup_images", int, 100, "images seen before the KL term counts", 0, 10_000,
        part="run", metavar="N",
        shown=settings.Shown("Warm-up", "Images seen before the KL term counts")))

    from PySide6.QtWidgets import QApplication
    from studio.cli_args import build_parser
    from studio.engine.errors import StudioError
    from studio.engine.requests import TrainRequest
    from studio.engine.run import TrainingRun
    from studio.gui.training_panel import TrainingPanel

    seen = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            build_parser().parse_args(["train", "--help"])
        except SystemExit:
            pass
    seen["help"] = " ".join(out.getvalue().split())
    a = build_parser().parse_args(["train", "builtin", "--out", "x.pt", "--warmup-images", "7"])
    request = TrainRequest(data="builtin", **settings.asked_values(vars(a)))
    seen["config"] = TrainingRun(request).train_config("cpu").warmup_images
    try:
        TrainRequest(data="builtin", warmup_images=-1)
    except StudioError as e:
        seen["refused"] = str(e)
    app = QApplication([])
    panel = TrainingPanel()
    box = panel.fields["warmup_images"].widget
    box.setValue(9)
    seen["box"] = [box.minimum(), box.maximum(), box.toolTip(), panel.request().warmup_images]
    print(json.dumps(seen))
""")


def test_a_setting_declared_once_is_a_flag_a_checked_field_and_a_box():
    """Adding a setting is one edit: declared, it is a `face-studio train` flag with its help, a
    field of the request checked against its bounds that reaches the run's config, and a box in
    the Training panel with its bounds and tooltip."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", COLUMNS="10000")
    r = subprocess.run([sys.executable, "-c", ONE_EDIT], capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout.strip().splitlines()[-1])
    assert "--warmup-images N images seen before the KL term counts (100)" in seen["help"]
    assert seen["config"] == 7
    assert seen["refused"] == "warmup_images must be 0 or more, not -1"
    assert seen["box"] == [0, 10_000, "Images seen before the KL term counts", 9]
