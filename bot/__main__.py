"""The `chengxin` command (also `python -m bot`): run, console, classify, db upgrade, departments import, audit verify."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from pydantic import ValidationError
from telegram.error import InvalidToken, NetworkError

from bot.config import Settings

TOKEN_REJECTED = (
    "Telegram 拒绝了这个令牌（已撤销或输入有误），请向 @BotFather 重新获取 / Telegram rejected "
    "TELEGRAM_BOT_TOKEN (revoked or mistyped): get it again from @BotFather"
)
API_UNREACHABLE = (
    "无法连接 Bot API 服务器 {url}（{error}），请检查网络或 TELEGRAM_API_URL / cannot reach the Bot API "
    "server at {url} ({error}): check the network or TELEGRAM_API_URL"
)
TOKEN_HELP = (
    "未设置 TELEGRAM_BOT_TOKEN，或它还是示例占位符：请向 @BotFather 获取令牌并设置，或先用 chengxin console 试用 / "
    "TELEGRAM_BOT_TOKEN is not set (or is a placeholder): get one from @BotFather and export it, "
    "or try the bot without Telegram: chengxin console"
)


def _settings(**overrides) -> Settings:
    """The environment (and .env), with `overrides` (command-line flags, by variable name) on top."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        sys.exit(f"chengxin: invalid configuration: {problems}")


def policy_problem(settings: Settings) -> str | None:
    """The policy and calendar files are checked before anything starts; a bad value names itself."""
    from bot.domain.workdays import WorkCalendar
    from bot.policy import PolicyError, load_policy

    try:
        load_policy(Path(settings.policy_file) if settings.policy_file else None)
        WorkCalendar.china(Path(settings.calendar_file) if settings.calendar_file else None)
    except (PolicyError, ValueError, OSError) as error:
        return f"invalid policy: {error}"
    return None


def run(args: argparse.Namespace) -> int:
    """Long polling against TELEGRAM_API_URL, or with --webhook a webhook server; /healthz and /metrics
    on --port. Stops gracefully on SIGTERM."""
    from bot.app import build_application
    from bot.logs import configure_logging
    from bot.web.server import serve
    from scheduler.reminders import WORKER

    flags = {"CHENGXIN_WEBHOOK_URL": args.webhook, "CHENGXIN_LISTEN": args.listen, "CHENGXIN_PORT": args.port,
             "CHENGXIN_WEBHOOK_SECRET": args.secret_token}
    settings = _settings(**{name: value for name, value in flags.items() if value is not None})
    if not settings.has_real_token():
        print(f"chengxin: {TOKEN_HELP}", file=sys.stderr)
        return 2
    if settings.webhook_url and not settings.secret_token:
        print("chengxin: --webhook needs a secret token: --secret-token or CHENGXIN_WEBHOOK_SECRET "
              "(1-256 characters A-Z a-z 0-9 _ -)", file=sys.stderr)
        return 2
    if problem := policy_problem(settings):
        print(f"chengxin: {problem}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.token, settings.secret_token, fmt=settings.log_format)
    application = build_application(settings)
    try:
        asyncio.run(serve(application, settings, worker=WORKER))
    except InvalidToken:
        print(f"chengxin: {TOKEN_REJECTED}", file=sys.stderr)
        return 2
    except NetworkError as error:  # TimedOut is one: the server did not answer
        print(f"chengxin: {API_UNREACHABLE.format(url=settings.api_root, error=type(error).__name__)}",
              file=sys.stderr)
        return 2
    return 0


def console(args: argparse.Namespace) -> int:
    from bot.console import OUT_DIR, run_console

    settings = _settings()
    if problem := policy_problem(settings):  # the same one line as `chengxin run`
        print(f"chengxin: {problem}", file=sys.stderr)
        return 2
    return asyncio.run(run_console(settings, Path(args.out) if args.out else OUT_DIR))


def classify(args: argparse.Namespace) -> int:
    """One complaint per stdin line in, one JSON object per line out."""
    from bot.domain.departments import SAMPLE_DIRECTORY
    from nlp import Classifier, DepartmentMatcher

    entries = DepartmentMatcher.load_csv(args.departments or SAMPLE_DIRECTORY)
    classifier = Classifier.default()
    classifier.add_words([e.name for e in entries] + [a for e in entries for a in e.aliases])
    matcher = DepartmentMatcher(entries)
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        result = classifier.classify(text).to_json()
        result["departments"] = [m.name for m in matcher.find(text)]
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


async def _with_db(work) -> int:
    from bot.db.session import Database

    db = Database(_settings().database_url)
    try:
        await db.upgrade()
        return await work(db)
    finally:
        await db.dispose()


def db_upgrade(args: argparse.Namespace) -> int:
    async def work(db) -> int:
        print("database is at the newest schema")
        return 0

    return asyncio.run(_with_db(work))


def departments_import(args: argparse.Namespace) -> int:
    from bot.domain.departments import import_directory
    from bot.progress import Bar

    raw = Path(args.file).read_bytes()

    async def work(db) -> int:
        rows = max(0, raw.count(b"\n") - 1) or None
        async with db.session() as session:
            with Bar("导入部门", total=rows) as bar:
                report = await import_directory(session=session, raw=raw, replace=args.replace,
                                                progress=bar.advance)
            if report.errors:
                print("导入失败，未做任何更改：", file=sys.stderr)
                for problem in report.errors:
                    print(f"  {problem}", file=sys.stderr)
                return 1
            await session.commit()
        deactivated = f"，停用 {report.deactivated} 个（不在文件中；历史案件保留）" if args.replace else ""
        print(f"导入完成：新增 {report.created} 个部门，更新 {report.updated} 个{deactivated}（运行中的机器人重启后生效）")
        return 0

    return asyncio.run(_with_db(work))


def audit_verify(args: argparse.Namespace) -> int:
    from bot.domain.audit import verify_chains

    async def work(db) -> int:
        async with db.session() as session:
            checked, broken = await verify_chains(session=session)
        for link in broken:
            print(f"{link.case_ref}: broken at event {link.seq}: {link.reason}")
        print(f"{checked} cases checked, {len(broken)} broken")
        return 1 if broken else 0

    return asyncio.run(_with_db(work))


def commitments_import(args: argparse.Namespace) -> int:
    """Load an existing ledger (台账); all rows or none."""
    from bot.domain.commitments import import_ledger
    from bot.progress import Bar
    from bot.domain.obligations import Deadlines
    from bot.domain.roles import Actor, Role
    from bot.domain.workdays import WorkCalendar
    from bot.clock import Clock
    from bot.policy import load_policy

    settings = _settings()
    raw = Path(args.file).read_bytes()
    deadlines = Deadlines(
        policy=load_policy(Path(settings.policy_file) if settings.policy_file else None),
        calendar=WorkCalendar.china(Path(settings.calendar_file) if settings.calendar_file else None),
        tz=settings.tz,
    )

    async def work(db) -> int:
        async with db.session() as session:
            with Bar("登记承诺", total=max(0, raw.count(b"\n") - 1) or None) as bar:
                report = await import_ledger(session=session, raw=raw, actor=Actor(Role.SUPERVISOR),
                                             now=Clock().now(), deadlines=deadlines, progress=bar.advance)
            if report.errors:
                print("导入失败，未做任何更改：", file=sys.stderr)
                for problem in report.errors:
                    print(f"  {problem}", file=sys.stderr)
                return 1
            await session.commit()
        if report.encoding != "utf-8":
            print("提示：文件按 GBK 编码读取。")
        for warning in report.duplicates:
            print(f"重复：{warning}")
        print(f"导入完成：登记 {len(report.created)} 项承诺" + (f"（{report.created[0]} 起）" if report.created else ""))
        return 0

    return asyncio.run(_with_db(work))


def lexicon_check(args: argparse.Namespace) -> int:
    from bot.cli_lexicon import lexicon_check as check

    return check(args.file)


def lexicon_suggest(args: argparse.Namespace) -> int:
    """Candidate terms from corrections: a JSONL file, or by default the supervisors' corrections in the database."""
    import tempfile

    from bot.cli_lexicon import lexicon_suggest as suggest
    from bot.domain.cases import corrected_examples

    if args.corrections:
        return suggest(args.corrections, args.labelled, args.domain)

    async def work(db) -> list[tuple[str, str]]:
        async with db.session() as session:
            return await corrected_examples(session=session)

    examples = asyncio.run(_with_db(work))
    if not examples:
        print("还没有督办人员更正过案件领域（/domain 编号 领域），没有可分析的更正。")
        return 0
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as handle:
        for text, domain in examples:
            handle.write(json.dumps({"text": text, "domain": domain}, ensure_ascii=False) + "\n")
    try:
        return suggest(handle.name, args.labelled, args.domain)
    finally:
        Path(handle.name).unlink(missing_ok=True)


def report(args: argparse.Namespace) -> int:
    """The monthly review workbook from the command line."""
    from bot.cli_reports import report_command

    return report_command(args.month, args.out)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="chengxin", description="诚信 Chengxin government-integrity bot")
    commands = top.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="run the bot (long polling, or a webhook with --webhook)")
    runner.add_argument("--webhook", metavar="URL",
                        help="serve Telegram's webhook at this public https URL (CHENGXIN_WEBHOOK_URL)")
    runner.add_argument("--listen", metavar="ADDRESS", help="address to listen on (CHENGXIN_LISTEN, 127.0.0.1)")
    runner.add_argument("--port", type=int, help="port for the webhook, /healthz and /metrics (CHENGXIN_PORT; "
                                                 "8443 with --webhook, none in polling mode)")
    runner.add_argument("--secret-token", metavar="TOKEN",
                        help="webhook secret token (prefer CHENGXIN_WEBHOOK_SECRET: arguments show in ps)")
    runner.set_defaults(func=run)
    console_parser = commands.add_parser("console", help="try the bot in the terminal, no Telegram needed")
    console_parser.add_argument("--out", help="folder for the charts and workbooks the bot sends "
                                              "(default: ./chengxin-console-out)")
    console_parser.set_defaults(func=console)
    classify_parser = commands.add_parser("classify", help="classify complaints from stdin, JSON lines out")
    classify_parser.add_argument("--departments", help="department directory CSV (default: the shipped sample)")
    classify_parser.set_defaults(func=classify)
    db = commands.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="migrate to the newest schema").set_defaults(func=db_upgrade)
    departments = commands.add_parser("departments", help="department directory").add_subparsers(
        dest="departments_command", required=True)
    importer = departments.add_parser("import", help="load a city's directory CSV")
    importer.add_argument("file")
    importer.add_argument("--replace", action="store_true",
                          help="the file is the whole directory: deactivate departments not in it "
                               "(e.g. the sample Yancheng directory seeded at first start)")
    importer.set_defaults(func=departments_import)
    register = commands.add_parser("commitments", help="commitment register (承诺台账)").add_subparsers(
        dest="commitments_command", required=True)
    ledger = register.add_parser("import", help="load an existing ledger CSV (UTF-8 or GBK)")
    ledger.add_argument("file")
    ledger.set_defaults(func=commitments_import)
    lexicon = commands.add_parser("lexicon", help="classifier lexicon maintenance").add_subparsers(
        dest="lexicon_command", required=True)
    check = lexicon.add_parser("check", help="accuracy, macro-F1, confusion matrix on a labelled JSONL file")
    check.add_argument("file", nargs="?", default=None)
    check.set_defaults(func=lexicon_check)
    suggest = lexicon.add_parser("suggest", help="candidate terms from corrected cases, with their effect")
    suggest.add_argument("corrections", nargs="?", default=None,
                         help="JSONL of {text, domain} corrections (default: supervisors' /domain corrections in the database)")
    suggest.add_argument("--labelled", default=None, help="labelled JSONL to measure the effect on (default: dev set)")
    suggest.add_argument("--domain", default=None)
    suggest.set_defaults(func=lexicon_suggest)
    workbook = commands.add_parser("report", help="the monthly review (按月排查) as an .xlsx workbook")
    workbook.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-11")
    workbook.add_argument("--out", required=True, help="where to write the .xlsx")
    workbook.set_defaults(func=report)
    audit = commands.add_parser("audit", help="audit log").add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help="check every case's hash chain").set_defaults(func=audit_verify)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
