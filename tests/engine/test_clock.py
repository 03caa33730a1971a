"""Time as progress is told (studio.engine.clock)."""

from studio.engine.clock import Throttle


def test_a_throttle_lets_one_report_through_per_interval_and_a_forced_one_always():
    every_minute = Throttle(60.0)
    assert every_minute.due()              # the first report goes out at once
    assert not every_minute.due()          # the next one waits its minute
    assert every_minute.due(force=True)    # a last report goes out whatever the time
    assert not every_minute.due()
    waiting = Throttle(60.0, wait_first=True)
    assert not waiting.due()               # the first one, too, waits its minute
    always = Throttle(0.0)
    assert always.due() and always.due()


def test_a_restarted_throttle_counts_its_interval_from_then():
    every_minute = Throttle(60.0)
    every_minute.restart()
    assert not every_minute.due()
