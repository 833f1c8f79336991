"""The shipped CJK font: it covers the course's Chinese and matplotlib falls back to it.

The drawing tests restrict matplotlib to DejaVu Sans plus the shipped file, so they hold on a
machine with no CJK system font (and prove nothing else supplied the glyphs here).
"""

import warnings

import matplotlib
import pytest
from fontTools.ttLib import TTFont
from make_font_subset import ROOT, course_characters

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tinyllm import plotting  # noqa: E402
from tinyllm.paths import SHIPPED_FILES, data_file, sha256_of  # noqa: E402

TINYTALES_CHARS = "".join(sorted(course_characters(sorted((ROOT / "tinyllm" / "tinytales").glob("*.py")))))
REBUILD = "rebuild it: `python tests/make_font_subset.py` (see data/README.md)"


def draw(text: str) -> list[str]:
    """Draw `text` in a title and tick labels; return the warnings matplotlib raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots(figsize=(4, 2))
        ax.set_title(text[:40])
        ax.set_xticks(range(3), [text[:20], text[20:40], text])
        plotting.figure_png(fig)
    return [str(w.message) for w in caught]


@pytest.fixture
def dejavu_only():
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"], "font.sans-serif": ["DejaVu Sans"]}):
        yield


def test_the_font_is_shipped_registered_and_small():
    path = data_file(plotting.FONT_FILE)
    assert sha256_of(path) == SHIPPED_FILES[plotting.FONT_FILE]
    assert path.stat().st_size < 2 * 2**20
    names = {f.name for f in matplotlib.font_manager.fontManager.ttflist}
    assert plotting.FONT_FAMILY in names


def test_the_subset_covers_every_chinese_character_of_the_course():
    mapped = {chr(c) for c in TTFont(data_file(plotting.FONT_FILE)).getBestCmap()}
    missing = sorted(course_characters() - mapped)
    assert not missing, f"characters missing from the shipped font: {''.join(missing)}; {REBUILD}"
    assert len(TINYTALES_CHARS) > 300          # the lexicon's Chinese, not an empty scan


def test_without_the_font_chinese_is_tofu(dejavu_only):
    # The check below can fail: DejaVu Sans alone has no Chinese glyphs.
    assert any("missing from font" in m for m in draw(TINYTALES_CHARS))


def test_every_tinytales_character_draws_with_the_shipped_font(dejavu_only):
    assert plotting.use_cjk_font() == plotting.FONT_FAMILY
    assert matplotlib.rcParams["font.family"] == ["DejaVu Sans", plotting.FONT_FAMILY]
    for start in range(0, len(TINYTALES_CHARS), 40):
        messages = draw(TINYTALES_CHARS[start:start + 40] + " the cat 小猫")
        assert not [m for m in messages if "missing" in m], messages


def test_use_cjk_font_is_idempotent(dejavu_only):
    plotting.use_cjk_font()
    plotting.use_cjk_font()
    assert matplotlib.rcParams["font.family"].count(plotting.FONT_FAMILY) == 1
