"""`chengxin audit verify` and `chengxin audit anchor`."""

from __future__ import annotations

import asyncio
import json
import sys


def _database():
    from bot.config import Settings
    from bot.db.session import Database
    from bot.domain.audit import audit_key_for

    settings = Settings()
    return settings, Database(settings.database_url, audit_key=audit_key_for(settings))


def verify_command(*, every_anchor: bool = False) -> int:
    """Every chain, every row seal, the anchors; prints each chain's first broken link. 0 when all hold."""
    from bot.domain.anchors import verify_anchors
    from bot.domain.audit import verify_chains

    async def work() -> int:
        _, db = _database()
        try:
            await db.upgrade()
            async with db.session() as session:
                checked, broken = await verify_chains(session=session, release=True)
                broken += await verify_anchors(session=session, every=every_anchor)
        finally:
            await db.dispose()
        for link in broken:
            where = link.case_ref if link.case_ref.startswith("anchor") else f"{link.case_ref}: broken at event {link.seq}"
            print(f"{where}: {link.reason}")
        print(f"{checked} chains checked, {len(broken)} broken")
        return 1 if broken else 0

    return asyncio.run(work())


def anchor_command(*, as_json: bool = False) -> int:
    """Make today's anchor if there is none yet, then print the latest one for publishing."""
    from bot.clock import Clock
    from bot.domain.anchors import latest_anchor, make_anchor, publishable

    async def work() -> int:
        settings, db = _database()
        try:
            await db.upgrade()
            async with db.session() as session:
                await make_anchor(session=session, now=Clock().now(), tz=settings.tz)
                await session.commit()
                anchor = await latest_anchor(session=session)
        finally:
            await db.dispose()
        if as_json:
            print(json.dumps({"day": anchor.day, "root": anchor.root, "previous": anchor.prev_root,
                              "chains": anchor.chains, "events": anchor.events,
                              "case_event_cut": anchor.case_event_cut,
                              "commitment_event_cut": anchor.commitment_event_cut,
                              "account_event_cut": anchor.account_event_cut, "mac": anchor.mac}))
        else:
            sys.stdout.write(publishable(anchor))
        return 0

    return asyncio.run(work())
