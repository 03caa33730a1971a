"""Help: About (version, licence, data credits), a short tour of the rooms, the shortcut list,
and the dialog an unexpected error shows."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QMessageBox

import studio

log = logging.getLogger(__name__)

LICENCE = "MIT"
LFW = ("Labeled Faces in the Wild (Huang, Ramesh, Berg and Learned-Miller, 2007), deep-funneled "
       "(Huang, Mattar, Lee and Learned-Miller, 2012): http://vis-www.cs.umass.edu/lfw/")

TOUR = """<h3>The three rooms</h3>
<p><b>Analyst</b> (left): the photo selected in the strip, as the model frames it, its
reconstruction, and how the encoder describes it: a mean and a spread (mu &plusmn; sigma) per
latent dimension, the most used first. <i>Variations</i> paints draws from that description.</p>
<p><b>Blueprint Room</b> (middle): a map of the latent space. Every grey dot is a training face,
every numbered dot a photo of yours. Click or drag anywhere to paint the face at that point;
right-drag pans, the wheel zooms (faces stay square), Home or the little <i>A</i> shows the
faces' region again. <i>Mosaic</i> lays faces over the map; <i>Lasso</i> chooses
faces for a direction.</p>
<p><b>Painter</b> (right): the painted face. The slider morphs from face A to face B (set them
in the strip), <i>Random face</i> draws a new one.</p>
<p><b>Create</b> (the dock): sliders per dimension, directions (smiling minus serious, say) and
keyframe morphs you can export as GIF or MP4. <b>Training</b> (View menu, Ctrl+T) trains a model
of your own on the built-in faces or a folder.</p>"""

SHORTCUTS = (("Ctrl+O", "Open images"), ("Ctrl+S", "Save the painted face"),
             ("R", "Random face"), ("Space", "Play / pause the morph"),
             ("Ctrl+T", "Show or hide the training panel"), ("Ctrl+Q", "Quit"),
             ("Left press on the map", "Paint the face at that point (on a photo's dot, the photo)"),
             ("Left drag on the map", "Paint as you go: a morph from face to face"),
             ("Right (or middle) drag on the map", "Pan: the map follows the hand"),
             ("Wheel on the map", "Zoom in or out round the cursor, both axes together"),
             ("Home, or the map's A button", "Show the faces' region again, as at start"))


def about_text(info) -> str:
    ds = info.dataset if info is not None else {}
    name = ds.get("name", "?")
    credit = LFW if "lfw" in str(name).lower() else ds.get("source", "")
    return (f"<b>Face Studio {studio.__version__}</b><br>Licence: {LICENCE}<br><br>"
            f"Model: {info.name if info else '-'} "
            f"({info.config.latent_dim if info else '?'} latent dimensions)<br>"
            f"Trained on: {name} ({ds.get('images', '?')} images)<br>"
            f"Data: {credit}<br><br>"
            "Built with PyTorch, PySide6 (Qt), pyqtgraph, scikit-image, NumPy and Pillow.")


def shortcuts_text() -> str:
    rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
    return f"<table>{rows}</table>"


def readme_path() -> Path | None:
    """The README: inside the package of an installed wheel, beside it in a source checkout."""
    here = Path(studio.__file__).resolve().parent
    for p in (here / "README.md", here.parent / "README.md"):
        if p.is_file():
            return p
    return None


def readme_window(parent):
    """The README in a window of the studio's own, its images shown (their paths are relative
    to the README, wherever the studio was started from); its title gives the file's path.
    Not handed to the desktop: a system with no launcher prints a warning for it, and a text
    editor shows no images. None when the README cannot be found or read."""
    from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout

    path = readme_path()
    try:
        text = path.read_text(encoding="utf-8") if path is not None else None
    except OSError:
        text = None
    if text is None:
        return None
    dlg = QDialog(parent)
    dlg.setWindowTitle(f"README - {path}")
    view = QTextBrowser()
    view.document().setBaseUrl(QUrl.fromLocalFile(str(path.parent) + "/"))
    view.setSearchPaths([str(path.parent)])
    view.setMarkdown(text)
    view.setOpenExternalLinks(True)
    QVBoxLayout(dlg).addWidget(view)
    dlg.resize(760, 620)
    dlg.setAttribute(Qt.WA_DeleteOnClose)
    dlg.setModal(False)
    dlg.show()
    return dlg


def info_box(parent, title: str, html: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Information, title, html, QMessageBox.Ok, parent)
    box.setTextFormat(Qt.RichText)
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.setModal(False)
    box.show()
    return box


def error_box(parent, exc_type, exc, tb) -> QMessageBox:
    """An unexpected error: a short line, the traceback under Details, the studio still up."""
    details = "".join(traceback.format_exception(exc_type, exc, tb))
    box = QMessageBox(QMessageBox.Critical, "Face Studio: unexpected error",
                      f"Something went wrong: {exc_type.__name__}: {exc}\n\nYour work is still "
                      "open. Please report this with the details.", QMessageBox.Ok, parent)
    box.setDetailedText(details)
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.setModal(False)
    box.show()
    return box
