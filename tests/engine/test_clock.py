"""Time as progress is told (studio.engine.clock)."""

from studio.engine.clock import Throttle, clock_text


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


def test_seconds_read_as_a_clock_with_hours_only_from_an_hour_on():
    assert clock_text(None) == "--:--"   # an ETA not known yet
    assert clock_text(4.6) == "0:05"
    assert clock_text(245) == "4:05"
    assert clock_text(3599.4) == "59:59"
    assert clock_text(3723) == "1:02:03"  # the command line and the Training panel alike
