"""The engine's long jobs (studio.engine.jobs): training's threads give way to the window's."""

import os
import sys
import threading

import pytest

from studio.engine import jobs


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="niceness per thread: Linux")
def test_training_threads_give_way_and_the_window_keeps_its_priority():
    seen = {}

    def training():
        jobs.lower_priority()
        seen["training"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        def worker():  # as torch's OpenMP team, started by the training thread
            seen["worker"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        w = threading.Thread(target=worker)
        w.start()
        w.join()

    main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    t = threading.Thread(target=training)
    t.start()
    t.join()
    assert seen["training"] == seen["worker"] == max(main, jobs.TRAINING_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main


def test_the_engine_refuses_a_second_training_run_while_one_is_on(tmp_path):
    """One run at a time, said by the engine service (the window only forwards): a second run
    asked for while one is on is refused with one message, and not prepared (a window would ask
    about its unsaved model for nothing); the first goes on; once its end is told, a run is
    taken again."""
    from studio.engine import requests as rq
    from studio.engine.service import EngineService
    from tests.engine.test_run import Heard

    heard = Heard()
    service = EngineService(heard)  # (its thread not started: training needs none of it)
    run = rq.TrainRequest(data="builtin", latent_dim=2, image_size=16, epochs=100000,
                          device="cpu")
    prepared = []

    def prepare(request):  # the window's question, then the run's recovery copy
        prepared.append(request)
        return rq.TrainRequest(data="builtin", latent_dim=2, image_size=16, epochs=100000,
                               device="cpu", autosave=str(tmp_path / "recovery.pt"))

    training, first = service.training, None
    try:
        assert training.start(run, prepare) and training.on and prepared == [run]
        first = training.job
        assert first.request.autosave == str(tmp_path / "recovery.pt")  # as prepared
        heard.wait_for(rq.TrainingProgressed)
        assert not training.start(run, prepare)
        refused = heard.events[heard.wait_for(rq.RequestFailed)]
        assert (refused.message, refused.request) == ("A training run is already running",
                                                      rq.TrainRequest)
        assert prepared == [run] and training.job is first and first.on
        assert not training.start(run)  # each refusal said once
        assert [type(e) for e in heard.events].count(rq.RequestFailed) == 2
        first.stop(abandon=True)
        heard.wait_for(rq.TrainingFinished)
        assert not training.on  # its end heard: the run is over
        assert training.start(run) and training.job is not first and training.on
    finally:
        for job in (first, training.job):
            if job is not None:
                job.stop(timeout=30, abandon=True)
    assert not first.running and not training.job.running
