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
