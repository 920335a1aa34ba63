"""Items 13 and 15 of issue 15: replacing the sample directory of an already seeded database
(`departments import --replace`), and progress bars on a terminal only."""

from __future__ import annotations

import io

from bot.progress import Bar
from tests.test_cli import chengxin

BAR_MARKS = ("━", "\r", "\x1b[")


def test_departments_import_replace_deactivates_the_rest(tmp_path):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    # the sample directory (Yancheng's 139 departments) as a first start seeds it
    seeded = chengxin("departments", "import", "--replace",
                      str(__import__("bot.domain.departments", fromlist=["x"]).SAMPLE_DIRECTORY), cwd=tmp_path, env=env)
    assert seeded.returncode == 0 and "新增 139 个部门" in seeded.stdout, seeded.stdout + seeded.stderr
    mine = tmp_path / "mine.csv"
    mine.write_text("code,name,kind,parent,region,aliases\n"
                    "xx-gov,某某市人民政府,municipal,,city,市政府\n"
                    "xx-czj,某某市财政局,bureau,xx-gov,city,市财政局|财政局\n", "utf-8")
    replaced = chengxin("departments", "import", "--replace", str(mine), cwd=tmp_path, env=env)
    assert replaced.returncode == 0, replaced.stderr
    assert "新增 2 个部门" in replaced.stdout and "停用 139 个" in replaced.stdout
    for stream in (seeded.stdout, seeded.stderr, replaced.stdout, replaced.stderr):  # piped: no bar
        assert not any(mark in stream for mark in BAR_MARKS), stream
    classified = chengxin("classify", cwd=tmp_path, stdin="市财政局拖欠货款\n")
    assert classified.returncode == 0


async def test_a_deactivated_department_is_no_longer_found(tmp_path):
    from bot.db.session import Database
    from bot.domain.departments import find_departments, import_directory, seed_sample_directory

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'y.db'}")
    await db.upgrade()
    try:
        async with db.session() as session:
            assert await seed_sample_directory(session=session) == 139
            assert await find_departments(session=session, query="市财政局")
            report = await import_directory(session=session, replace=True, raw=(
                "code,name,kind,parent,region,aliases\nxx-czj,某某市财政局,bureau,,city,财政局\n").encode())
            assert (report.created, report.deactivated) == (1, 139)
            assert [d.code for d in await find_departments(session=session, query="财政局")] == ["xx-czj"]
            assert not await find_departments(session=session, query="盐城市财政局")
    finally:
        await db.dispose()


def test_a_bar_is_drawn_on_a_terminal_and_not_when_piped():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, piped = Terminal(), io.StringIO()
    for stream in (terminal, piped):
        with Bar("导入部门", total=3, stream=stream) as bar:
            for _ in range(3):
                bar.advance()
    assert "导入部门" in terminal.getvalue() and "3/3" in terminal.getvalue()
    assert piped.getvalue() == ""


def test_lexicon_check_and_report_piped_have_no_bar(tmp_path):
    checked = chengxin("lexicon", "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'z.db'}"}
    reported = chengxin("report", "--month", "上个月", "--out", str(tmp_path / "r.xlsx"), cwd=tmp_path, env=env)
    assert reported.returncode in (0, 1), reported.stderr
    for stream in (checked.stdout, checked.stderr, reported.stdout, reported.stderr):
        assert not any(mark in stream for mark in BAR_MARKS), stream
