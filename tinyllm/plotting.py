"""Figures in the notebooks: Chinese that renders on every machine, and widget pictures that stay.

Used by notebooks 04 (attention heat maps) and 06 (sampling rules); import it before drawing.

Importing this module registers the shipped font subset ``data/fonts/NotoSansSC-tinyllm.otf``
(Noto Sans CJK SC cut down to the characters the course uses) with matplotlib and puts it last
in ``font.family``: Latin text keeps DejaVu Sans (or whatever family is first), and matplotlib
falls back to the subset, glyph by glyph, for characters that family lacks. So labels such as
小猫 never turn into boxes, whatever fonts the learner's system has.

``LivePicture`` shows a figure as an ordinary image output that widget callbacks redraw in
place. An image output is saved in the notebook like any plot, so a notebook read without a
kernel (GitHub, nbviewer, JupyterLab before the kernel starts) still shows the picture; the
widget controls alone would only show as text there.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib import font_manager

from tinyllm.paths import data_file

FONT_FILE = "fonts/NotoSansSC-tinyllm.otf"
FONT_FAMILY = "Noto Sans SC tinyllm"


def use_cjk_font() -> str:
    """Register the shipped CJK subset with matplotlib as the fallback for Chinese; returns its family.

    Idempotent. The file's sha256 is checked first (``tinyllm.paths.SHIPPED_FILES``).
    """
    path = data_file(FONT_FILE)
    if FONT_FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(path))
    # Matplotlib falls back glyph by glyph only across the families listed in font.family (a
    # generic name such as "sans-serif" resolves to one font), so the subset goes last there.
    families = [f for f in matplotlib.rcParams["font.family"] if f != FONT_FAMILY]
    matplotlib.rcParams["font.family"] = families + [FONT_FAMILY]
    return FONT_FAMILY


def figure_png(fig) -> bytes:
    """The figure as PNG bytes, at its own size (``bbox_inches="tight"``); closes the figure."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


class LivePicture:
    """An image output that stays in the saved notebook and that widget callbacks redraw.

    ``picture.show(fig)`` displays the figure the first time and replaces it in place afterwards
    (an IPython display id), so the controls above it update it while a kernel runs.
    """

    def __init__(self) -> None:
        self.handle = None
        self.png = b""

    def show(self, fig) -> None:
        from IPython.display import Image, display

        self.png = figure_png(fig)
        if self.handle is None:
            self.handle = display(Image(self.png), display_id=True)
        else:
            self.handle.update(Image(self.png))


def show_controls(box, description: str) -> None:
    """Display widget controls with ``description`` as their text form (instead of ``VBox(...)``).

    Where no kernel runs, a page shows a widget's text form; this says what the controls do.
    """
    from IPython.display import display

    bundle = box._repr_mimebundle_()
    bundle["text/plain"] = description
    display(bundle, raw=True)


use_cjk_font()
