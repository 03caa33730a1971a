"""Guards against a Qt binding that would crash the studio after a while.

PySide6 6.12.0 on Python 3.11 drops a reference to None on every QApplication.processEvents()
call; None's count runs out after some thousands of calls and the interpreter aborts ("Fatal Python
error: none_dealloc"). pyproject.toml excludes it; this test catches any binding with the bug.
"""

import sys

import pytest


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_processing_events_does_not_leak_references_to_none(qapp):
    before = sys.getrefcount(None)
    for _ in range(3000):
        qapp.processEvents()
    assert abs(sys.getrefcount(None) - before) < 100
