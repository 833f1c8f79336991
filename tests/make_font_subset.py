"""Rebuild data/fonts/NotoSansSC-tinyllm.otf: Noto Sans CJK SC cut down to the course's characters.

    python tests/make_font_subset.py [/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]

The source is Debian's `fonts-noto-cjk` (SIL Open Font License 1.1); face 2 of the collection is
Simplified Chinese. The subset keeps printable ASCII, Latin-1 and every character at or above
CJK code point found in the notebooks, the Markdown files, the package's source (TinyTales'
lexicon and templates) and the shipped TinyTales samples, and renames the family so that it can
never be confused with a full Noto font installed on the system. data/README.md records its sha256.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FACE_SC = 2
TARGET = ROOT / "data" / "fonts" / "NotoSansSC-tinyllm.otf"
FAMILY = "Noto Sans SC tinyllm"


def course_files() -> list[Path]:
    """Every text file whose characters the course may draw."""
    patterns = ["notebooks/*.ipynb", "notebooks/*.md", "*.md", "data/README.md",
                "tinyllm/**/*.py", "data/tinytales/*.txt"]
    return sorted({p for pattern in patterns for p in ROOT.glob(pattern)})


def is_cjk(char: str) -> bool:
    """CJK ideographs, radicals, CJK and full-width punctuation (what DejaVu Sans lacks)."""
    code = ord(char)
    return 0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


def course_characters(files: list[Path] | None = None) -> set[str]:
    """The CJK characters and full-width punctuation in ``files`` (default: the whole course)."""
    chars: set[str] = set()
    for path in course_files() if files is None else files:
        chars |= {c for c in path.read_text(encoding="utf-8") if is_cjk(c)}
    return chars


def build(source: Path = SOURCE, target: Path = TARGET) -> int:
    """Write the subset; returns the number of characters it maps."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=FACE_SC, recalcTimestamp=False)  # same bytes every build
    options = subset.Options()
    options.name_IDs = ["*"]            # keep the copyright and license strings
    options.notdef_outline = True
    wanted = {ord(c) for c in course_characters()} | set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(wanted))
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID == 4:
            record.string = FAMILY + " Regular"
        elif record.nameID == 6:
            record.string = FAMILY.replace(" ", "") + "-Regular"
    if "CFF " in font:
        font["CFF "].cff.fontNames = [FAMILY.replace(" ", "") + "-Regular"]
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(target)
    return len(font.getBestCmap())


if __name__ == "__main__":
    from tinyllm.paths import sha256_of

    n = build(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
    print(f"{n} characters -> {TARGET.relative_to(ROOT)}, sha256 {sha256_of(TARGET)}")
    print("record the sha256 in tinyllm/paths.py (SHIPPED_FILES) and data/README.md")
