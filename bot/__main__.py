"""The `chengxin` command (also `python -m bot`): run, console, classify, db upgrade, departments and commitments
import, lexicon, report, doctor, audit verify/anchor, backup, restore."""

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
             "CHENGXIN_WEBHOOK_SECRET": args.secret_token, "CHENGXIN_WEB_PORT": args.web_port,
             "CHENGXIN_WEB": True if args.web_port is not None else None}
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
        asyncio.run(serve(application, settings, worker=WORKER, own_process=True))
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

    from bot.domain.audit import audit_key_for

    settings = _settings()
    db = Database(settings.database_url, audit_key=audit_key_for(settings))
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
    from bot.cli_imports import departments_import as run_import

    return run_import(args.file, _with_db, replace=args.replace)


def audit_verify(args: argparse.Namespace) -> int:
    from bot.cli_audit import verify_command

    return verify_command(every_anchor=args.every_anchor)


def audit_anchor(args: argparse.Namespace) -> int:
    from bot.cli_audit import anchor_command

    return anchor_command(as_json=args.json)


def backup(args: argparse.Namespace) -> int:
    from bot.cli_backup import backup_command

    return backup_command(args.file)


def restore(args: argparse.Namespace) -> int:
    from bot.cli_backup import restore_command

    return restore_command(args.file)


def commitments_import(args: argparse.Namespace) -> int:
    """Load an existing ledger (台账); all rows or none."""
    from bot.cli_imports import commitments_import as run_import

    return run_import(args.file, _settings(), _with_db)


def lexicon_check(args: argparse.Namespace) -> int:
    from bot.cli_lexicon import lexicon_check as check

    return check(args.file)


def _with_corrections_file(path: str | None, use) -> int:
    """Call ``use(jsonl_path)`` with the corrections: the given JSONL file, or by default the
    supervisors' /domain corrections from the database written to a temporary file."""
    import tempfile

    from bot.domain.cases import corrected_examples

    if path:
        return use(path)

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
        return use(handle.name)
    finally:
        Path(handle.name).unlink(missing_ok=True)


def lexicon_suggest(args: argparse.Namespace) -> int:
    """Candidate terms from corrections: a JSONL file, or by default the supervisors' corrections in the database."""
    from bot.cli_lexicon import lexicon_suggest as suggest

    return _with_corrections_file(args.corrections, lambda path: suggest(path, args.labelled, args.domain))


def lexicon_split(args: argparse.Namespace) -> int:
    from bot.cli_lexicon import lexicon_split as split

    return split()


def lexicon_train(args: argparse.Namespace) -> int:
    """Learn the classifier's weights; --with-corrections adds supervisors' corrections (file or database)."""
    from bot.cli_lexicon import lexicon_train as train

    if args.with_corrections is None:
        return train(None, args.accept, args.out)
    return _with_corrections_file(args.with_corrections or None, lambda path: train(path, args.accept, args.out))


def report(args: argparse.Namespace) -> int:
    """The monthly review workbook from the command line."""
    from bot.cli_reports import report_command

    return report_command(args.month, args.out)


def doctor(args: argparse.Namespace) -> int:
    from bot.cli_doctor import doctor as run_doctor

    return run_doctor(_settings())


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="chengxin", description="诚信 Chengxin government-integrity bot")
    commands = top.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="run the bot (long polling, or a webhook with --webhook)")
    runner.add_argument("--webhook", metavar="URL",
                        help="serve Telegram's webhook at this public https URL (CHENGXIN_WEBHOOK_URL)")
    runner.add_argument("--listen", metavar="ADDRESS", help="address to listen on (CHENGXIN_LISTEN, 127.0.0.1)")
    runner.add_argument("--port", type=int, help="port for the webhook, /healthz and /metrics (CHENGXIN_PORT; "
                                                 "8443 with --webhook, none in polling mode)")
    runner.add_argument("--web-port", type=int, metavar="PORT",
                        help="serve the public pages, open data and dashboard on this port in polling mode "
                             "(CHENGXIN_WEB_PORT; turns CHENGXIN_WEB on; in webhook mode they share the webhook port)")
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
    importer = departments.add_parser(
        "import", help="load a city's directory: CSV (UTF-8 or GBK) or Excel .xlsx")
    importer.add_argument("file")
    importer.add_argument("--replace", action="store_true",
                          help="the file is the whole directory: deactivate departments not in it "
                               "(e.g. the sample Yancheng directory seeded at first start)")
    importer.set_defaults(func=departments_import)
    register = commands.add_parser("commitments", help="commitment register (承诺台账)").add_subparsers(
        dest="commitments_command", required=True)
    ledger = register.add_parser("import", help="load an existing ledger: CSV (UTF-8 or GBK) or Excel .xlsx")
    ledger.add_argument("file")
    ledger.set_defaults(func=commitments_import)
    lexicon = commands.add_parser("lexicon", help="classifier lexicon maintenance").add_subparsers(
        dest="lexicon_command", required=True)
    check = lexicon.add_parser("check", help="accuracy, macro-F1, confusion matrix, reliability on a labelled JSONL "
                                             "file (default: the real corpus's holdout)")
    check.add_argument("file", nargs="?", default=None)
    check.set_defaults(func=lexicon_check)
    suggest = lexicon.add_parser("suggest", help="candidate terms from corrected cases, with their effect")
    suggest.add_argument("corrections", nargs="?", default=None,
                         help="JSONL of {text, domain} corrections (default: supervisors' /domain corrections in the database)")
    suggest.add_argument("--labelled", default=None, help="labelled JSONL to measure the effect on (default: dev set)")
    suggest.add_argument("--domain", default=None)
    suggest.set_defaults(func=lexicon_suggest)
    split = lexicon.add_parser("split", help="validate the real-complaint corpus and record its train/dev/holdout split")
    split.set_defaults(func=lexicon_split)
    trainer = lexicon.add_parser("train", help="learn the classifier's term weights from the corpus (weights.json)")
    trainer.add_argument("--with-corrections", nargs="?", const="", default=None, metavar="FILE",
                         help="add supervisors' corrections (JSONL, or the database's /domain corrections); "
                              "shows the change on the holdout and writes only with --accept")
    trainer.add_argument("--accept", action="store_true", help="write the new weights after the comparison")
    trainer.add_argument("--out", default=None, help="where to write (default: nlp/data/weights.json)")
    trainer.set_defaults(func=lexicon_train)
    workbook = commands.add_parser("report", help="the monthly review (按月排查) as an .xlsx workbook")
    workbook.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-11")
    workbook.add_argument("--out", required=True, help="where to write the .xlsx")
    workbook.set_defaults(func=report)
    commands.add_parser("doctor", help="check the installation (versions, database, calendar, policy, font, "
                                       "Bot API); paste its output into a support request").set_defaults(func=doctor)
    audit = commands.add_parser("audit", help="audit log").add_subparsers(dest="audit_command", required=True)
    verify = audit.add_parser("verify", help="check every chain, row seal and anchor; names the first broken link")
    verify.add_argument("--every-anchor", action="store_true", help="recompute every anchor's root, not only the latest")
    verify.set_defaults(func=audit_verify)
    anchor = audit.add_parser("anchor", help="make today's anchor if missing and print the latest for publishing")
    anchor.add_argument("--json", action="store_true")
    anchor.set_defaults(func=audit_anchor)
    saver = commands.add_parser("backup", help="a consistent copy of the database while the bot runs")
    saver.add_argument("file")
    saver.set_defaults(func=backup)
    loader = commands.add_parser("restore", help="a backup into an empty database (refuses a non-empty one)")
    loader.add_argument("file")
    loader.set_defaults(func=restore)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
