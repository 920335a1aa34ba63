"""Item 7 of issue 15: one score computation feeds /score, `/score DEPT` and the workbook's 各部门 sheet; a
department with nothing to judge is 不参与排名 everywhere, never 100（优秀）."""

from __future__ import annotations

from bot import texts
from tests.conftest import SUPERVISOR_ID
from tests.test_supervision import (  # noqa: F401  (sv is a fixture)
    capture_uploads, end_of, local, make_case, make_clock, rows, sv, workbook_of,
)


async def test_score_ranking_department_view_and_workbook_agree(sv):
    async with sv.session() as session:
        judged = await make_case(session, dept="city-czj", created=local(2026, 11, 9))
        await make_clock(session, judged, kind="reply", due=end_of(2026, 11, 20), state="met",
                         closed=local(2026, 11, 12))
        late = await make_case(session, dept="city-czj", created=local(2026, 11, 10))
        await make_clock(session, late, kind="accept", due=end_of(2026, 11, 11), state="met",
                         closed=local(2026, 11, 13))
        await make_case(session, dept="yandu-zjj", created=local(2026, 11, 10))   # a case, nothing to judge
        await session.commit()
    supervisor = sv.supervisor()

    await supervisor.send("/score 2026-11")
    ranking = supervisor.last().text
    assert "盐城市财政局" in ranking and "盐都区住房和城乡建设局" not in ranking
    assert "未参与排名" in ranking
    score = ranking.split("盐城市财政局 ")[1].split("（")[0]

    await supervisor.send("/score 盐都区住建局 2026-11")
    inactive = supervisor.last().text
    assert texts.NOT_RANKED in inactive and "得分：<b>" not in inactive and "优秀" not in inactive

    await supervisor.send("/score 市财政局 2026-11")
    detail = supervisor.last().text
    assert f"得分：<b>{score}</b>" in detail and "第 1 名" in detail

    uploads = capture_uploads(sv)
    await supervisor.send("/report 2026-11")
    _, book = workbook_of(uploads[0][1])
    sheet = rows(book["各部门"])
    header = sheet[0]
    departments = {r[0]: dict(zip(header, r)) for r in sheet[1:]}
    assert f"{departments['city-czj']['得分']:g}" == score and departments["city-czj"]["排名"] == 1
    assert departments["yandu-zjj"]["等级"] == texts.NOT_RANKED
    assert departments["yandu-zjj"]["得分"] is None and departments["yandu-zjj"].get("排名") is None
    assert sv.request.sent(SUPERVISOR_ID, "sendDocument")
