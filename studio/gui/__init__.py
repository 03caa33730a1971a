"""The studio window: everything that imports Qt lives here (the engine never does)."""
