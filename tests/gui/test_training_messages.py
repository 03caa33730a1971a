"""What training in the window says: what a run will do before it starts, paused, no training,
and the map's caption as the run goes."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.gui.helpers import button, train_small


def test_start_says_what_it_will_do_and_its_notes_never_cover_stop(window, qtbot, two_photos):
    panel = window.training
    panel.latent.setValue(8)
    panel.size.setValue(32)
    panel.colour.setCurrentIndex(panel.colour.findData(1))
    panel.epochs.setValue(0)
    panel.budget.setValue(600)
    panel.device.setCurrentText("cpu")
    # before Start: what it will do, with these settings
    plan = panel.plan.text()
    assert "new, untrained model" in plan and "8 latent dims" in plan and "600 s" in plan
    assert "open model's file is not changed" in plan
    # work that belongs to the open model: a direction and a latent keyframe
    window.open_images(two_photos)
    qtbot.waitUntil(lambda: len(window.state.described()) == 2, timeout=20000)
    d = window.create.directions
    window.strip.list.setCurrentRow(0)
    button(d, "Photo to +").click()
    window.strip.list.setCurrentRow(1)
    button(d, "Photo to -").click()
    d.create.click()
    button(window.create.keyframes, "Add painted face").click()
    boxes_before = {id(w) for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)}
    panel.start.click()
    qtbot.waitUntil(lambda: window.engine.job is not None
                    and window.engine.job.trainer is not None, timeout=20000)
    boxes = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, QMessageBox) and w.isVisible() and id(w) not in boxes_before]
    assert boxes == []  # no box over the window
    assert "set aside" in panel.plan.text()
    assert "set aside" in window.statusBar().currentMessage()
    # Stop, clicked at once, stops the run
    with qtbot.waitSignal(window.engine.training_finished, timeout=15000):
        qtbot.mouseClick(panel.stop, Qt.LeftButton)
    qtbot.waitUntil(lambda: not window.engine.training, timeout=30000)


def test_pause_says_paused_and_an_idle_studio_says_no_training(window, qtbot):
    reports = []
    window.engine.training_progressed.connect(reports.append)
    train_small(window, qtbot)
    window.training.pause.click()
    assert window.training.status.text().startswith("Paused")
    assert window.device_label.text() == "Training paused"
    # progress reported before the pause and come after it (as the engine thread hands it on)
    # does not overwrite it
    qtbot.waitUntil(lambda: bool(reports), timeout=10000)
    window.engine.training_progressed.emit(reports[-1])
    assert window.training.status.text().startswith("Paused")
    assert window.device_label.text() == "Training paused"
    window.training.pause.click()  # resume
    with qtbot.waitSignal(window.engine.training_progressed, timeout=10000):
        pass
    assert "negative" in window.training.status.toolTip()
    assert "PSNR" in window.training.status.text()
    with qtbot.waitSignal(window.engine.training_finished, timeout=10000):
        window.training.stop.click()
    assert window.device_label.text() == "Device: cpu"
    xs, ys = window.training.curve_items["psnr_db"].getData()
    assert len(ys) >= 2 and np.all(np.isfinite(ys)) and ys.max() > 5


def test_the_map_caption_follows_training(window, qtbot):
    train_small(window, qtbot)
    first = window.blueprint.caption.text()
    with qtbot.waitSignal(window.engine.model_opened, timeout=20000,
                          check_params_cb=lambda ev: ev.info.snapshot):
        pass
    qtbot.waitUntil(lambda: window.blueprint.caption.text() != first, timeout=20000)
    with qtbot.waitSignal(window.engine.training_finished, timeout=10000):
        window.training.stop.click()


def test_the_panels_words_on_how_long_match_the_run(qtbot, capsys):
    """Issue 31.17: what the panel says Start trains for is what the run does, for every mix
    of Epochs and Time budget (0 in either), and the command line's help says the same rule."""
    from studio import settings
    from studio.cli_args import build_parser
    from studio.engine.run import TrainingRun
    from studio.gui.training_panel import TrainingPanel

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    auto = settings.SETTINGS["epochs"].default  # what 0 epochs and no time budget train
    for epochs, budget, words in ((0, 0, f"for {auto} epochs."),
                                  (0, 30, "for 30 s."), (7, 0, "for 7 epochs."),
                                  (7, 30, "for 7 epochs or 30 s.")):
        panel.epochs.setValue(epochs)
        panel.budget.setValue(budget)
        assert words in panel.plan_text(), (epochs, budget, panel.plan_text())
        cfg = TrainingRun(panel.request()).train_config("cpu")
        assert (cfg.epochs or 0, cfg.max_seconds or 0) == (epochs or (
            0 if budget else auto), budget)
    assert "no limit" not in panel.epochs.specialValueText()
    assert settings.ZERO_EPOCHS in panel.epochs.toolTip()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    assert settings.ZERO_EPOCHS in " ".join(capsys.readouterr().out.split())


def test_a_failed_run_that_trained_opens_its_last_good_weights_and_says_why(window, qtbot,
                                                                            monkeypatch):
    """The engine's news of a failed run (as the training thread sends it): the run's last good
    weights become the open model, the failure is said in a box, and the panel is ready again;
    a run that failed before training at all leaves the open model as it was."""
    from dataclasses import replace

    from studio.engine.checkpoint import load_model_file
    from studio.engine.files import shipped_models
    from studio.engine.requests import TrainingFailed

    shipped = load_model_file(next(p for p in shipped_models() if "2d" in p.name))
    good = replace(shipped, meta={**shipped.meta, "path": None})  # a run's: no file yet
    used, use_model = [], window.engine.use_model  # the models the window asks the engine for

    def use(file, *rest):
        used.append(file)
        return use_model(file, *rest)

    monkeypatch.setattr(window.engine, "use_model", use)
    window.training.set_running(True)
    with qtbot.waitSignal(window.engine.model_opened, timeout=20000):
        window.engine.training_failed.emit(TrainingFailed("the loss was not finite", good))
        assert used == [good]  # asked for as the news is heard, not later
    qtbot.waitUntil(lambda: window.state.info.config.latent_dim == 2, timeout=5000)
    assert not window.state.saved and window.messages.count("the loss was not finite") == 1
    assert window.training.start.isEnabled()
    assert "Training failed: the loss was not finite" in window.training.status.text()
    window.engine.training_failed.emit(TrainingFailed("no faces in the folder"))
    assert window.messages[-1] == "no faces in the folder"
    assert used == [good]  # no model asked for (it would have been, as above, by now)
    assert window.state.info.config.latent_dim == 2


def test_the_curves_are_redrawn_at_most_once_a_second_and_at_the_end(qtbot):
    """The text follows every report; the curves are redrawn at most once a second
    (CURVES_EVERY_S) while reports come faster, and with every point at the run's end."""
    import time

    from studio.engine.training import TrainProgress
    from studio.gui.training_panel import CURVES_EVERY_S, TrainingPanel

    panel = TrainingPanel()  # its (empty) curves drawn now
    qtbot.addWidget(panel)

    def report(step: int, done: bool = False) -> None:
        panel.show_progress(TrainProgress(
            step=step, epoch=0, batch=step, batches_per_epoch=100, epochs=1, recon=1.0,
            kl=float(step), total=1.0, kl_weight=1.0, images_per_s=10.0, elapsed_s=0.0,
            eta_s=None, fraction=step / 100, done=done, device="cpu", psnr_db=20.0))
        assert f"step {step}:" in panel.status.text()  # the text: every report

    def drawn() -> list:
        steps = panel.curve_items["kl"].getOriginalDataset()[0]
        return [] if steps is None else list(steps)

    def a_second_on() -> float:
        start = time.monotonic()
        qtbot.waitUntil(lambda: time.monotonic() - start > CURVES_EVERY_S, timeout=5000)
        return time.monotonic()

    drawn_at = a_second_on()
    report(1)
    assert drawn() == [1]  # a second after the last redraw: redrawn
    report(2)
    if time.monotonic() - drawn_at < CURVES_EVERY_S:  # sooner: the text only
        assert drawn() == [1]
    a_second_on()
    report(3)
    assert drawn() == [1, 2, 3]
    report(4, done=True)  # the end: every point, however soon
    assert drawn() == [1, 2, 3, 4]
