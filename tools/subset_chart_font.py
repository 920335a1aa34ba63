"""Make the chart font shipped in bot/data/fonts/ (a subset of Noto Sans CJK SC, SIL OFL 1.1).

    apt-get install fonts-noto-cjk     # gives /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
    pip install fonttools
    python tools/subset_chart_font.py [path/to/NotoSansCJK-Regular.ttc]

Keeps only the characters the charts draw (`bot.domain.reports.chart_characters()`: titles, domain labels,
legends, digits and ASCII), so the file stays small; tests/test_newcomer_charts.py fails when a chart
string gains a character the shipped font lacks — run this again then. The family is renamed
(CHART_FONT_FAMILY) so that matplotlib never confuses it with an installed full Noto Sans CJK SC.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain.reports import CHART_FONT_FAMILY, CHART_FONT_FILE, chart_characters  # noqa: E402

SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SC_INDEX = 2  # Noto Sans CJK SC inside the collection


def main(source: str = SOURCE) -> None:
    font = TTCollection(source).fonts[SC_INDEX]
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(chart_characters())))
    subsetter.subset(font)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 16):
            record.string = CHART_FONT_FAMILY
        elif record.nameID in (3, 4):
            record.string = CHART_FONT_FAMILY + " Regular"
        elif record.nameID == 6:
            record.string = CHART_FONT_FAMILY.replace(" ", "") + "-Regular"
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [CHART_FONT_FAMILY.replace(" ", "") + "-Regular"]
        top = cff.topDictIndex[0]
        top.FamilyName = top.FullName = CHART_FONT_FAMILY
    font.save(CHART_FONT_FILE)
    print(f"{CHART_FONT_FILE}: {CHART_FONT_FILE.stat().st_size // 1024} KB, {len(chart_characters())} characters")


if __name__ == "__main__":
    main(*sys.argv[1:])
