"""Item 10 of issue 15: the charts are in Chinese on a machine with no CJK font installed (the package ships a
subset of Noto Sans CJK SC, OFL), and the count axes show whole numbers only."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from fontTools.ttLib import TTFont

from bot import texts
from bot.domain import reports
from bot.domain.stats import Trend, month_period
from tests.conftest import SHANGHAI
from tests.flows import DEBT_TEXT, file_complaint
from tests.test_supervision import capture_uploads

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def test_the_shipped_font_draws_every_character_a_chart_uses():
    assert reports.CHART_FONT_FILE.is_file() and (reports.FONT_DIR / "OFL.txt").is_file()
    assert reports.CHART_FONT_FILE.stat().st_size < 600 * 1024
    cmap = TTFont(reports.CHART_FONT_FILE).getBestCmap()
    missing = sorted(ch for ch in reports.chart_characters() if ord(ch) not in cmap)
    assert not missing, f"re-run tools/subset_chart_font.py: {missing}"
    assert "Open Font License" in (reports.FONT_DIR / "OFL.txt").read_text()


def test_the_shipped_font_is_registered_before_any_installed_one():
    reports.cjk_font.cache_clear()
    assert reports.cjk_font() == reports.CHART_FONT_FAMILY
    from matplotlib import font_manager
    assert reports.CHART_FONT_FAMILY in {f.name for f in font_manager.fontManager.ttflist}


def _trend(counts: list[int]) -> Trend:
    months = month_period(2026, 11, SHANGHAI).months_back(6)
    return Trend(months=months, by_domain={"procurement": counts, "debt": [0, 0, 0, 0, 1, 0]},
                 open_at_end=[0, 0, 1, 1, 2, 2])


def test_a_chart_has_chinese_labels_no_missing_glyphs_and_whole_number_axes(monkeypatch):
    from matplotlib.figure import Figure

    reports.cjk_font.cache_clear()
    axes_seen = []
    original = Figure.savefig

    def keep(self, *args, **kwargs):
        axes_seen.extend(self.axes)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # "Glyph ... missing from font(s)" would fail here
        png = reports._render(_trend([0, 0, 1, 2, 1, 2]), reports.cjk_font())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    domains_axes, backlog_axes = axes_seen
    assert domains_axes.get_title() == texts.CHART_TITLE_DOMAINS[0]
    assert [t.get_text() for t in domains_axes.get_legend().get_texts()] == ["政府采购", "地方政府债务"]
    for axes in (domains_axes, backlog_axes):
        ticks = [t for t in axes.get_yticks() if axes.get_ylim()[0] <= t <= axes.get_ylim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    if os.environ.get("CHENGXIN_SAVE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(exist_ok=True)
        (SCREENSHOTS / "stats-chart.png").write_bytes(png)


async def test_stats_sends_the_chinese_chart_through_the_application(harness):
    reports.cjk_font.cache_clear()
    citizen = harness.chat(8501)
    await file_complaint(citizen)
    await file_complaint(citizen, DEBT_TEXT)
    uploads = capture_uploads(harness)
    await harness.supervisor().send("/stats")
    photo = harness.supervisor().last()
    assert photo.method == "sendPhoto" and texts.CHART_ASCII_NOTE not in photo.text
    (method, files), = uploads
    assert method == "sendPhoto" and list(files.values())[0][1][:8] == b"\x89PNG\r\n\x1a\n"
