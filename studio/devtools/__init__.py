"""Tools for developers: a real X display (Xvfb) for tests and screenshots."""
