"""What the map shows a person exploring it (issue 31): numbers only on axes that mean something,
the mosaic only where faces are, no dots spotting its faces, photo marks that read, points that
stay where they were made, and the same mosaic whatever the start."""

def _tick_texts(window):
    """The numbers the map's axes print, as the axes lay them out for the view now."""
    texts = []
    for name in ("left", "bottom"):
        axis = window.blueprint.plot.getPlotItem().getAxis(name)
        if axis.style["showValues"]:
            lo, hi = axis.range
            for spacing, values in axis.tickValues(lo, hi, 400):
                texts += axis.tickStrings(values, 1.0, spacing)
    return texts


def test_the_atlas_has_no_numbers_on_its_axes_and_the_planes_keep_theirs(window, qtbot):
    s, bp = window.state, window.blueprint
    assert s.projection.kind == "atlas"
    assert _tick_texts(window) == []  # t-SNE axes mean nothing: no numbers
    bp.axes.setCurrentIndex(bp.axes.findText("PCA plane"))
    assert s.projection.kind == "pca"
    assert any(t.lstrip("-").replace(".", "").isdigit() for t in _tick_texts(window))
    bp.axes.setCurrentIndex(bp.axes.findText("Face atlas"))
    assert _tick_texts(window) == []
