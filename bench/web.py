"""Web benchmark: the referral list and the ledger page against raw SQLite + Jinja2.

    python3 bench/web.py [--referrals 100000] [--partners 500] [--repeat 7]

Builds a store of N referrals by three referrers over a year, to P directory partners,
with four events each, then measures in one process, each the median of `--repeat`:

  list       GET /referrals (the signed-in referrer's first page) through Starlette
  baseline   the same page's rows by one raw SQLite query, rendered by a bare Jinja2 table
  ledger     GET /ledger?period=all|year|quarter (the partner ledger and its charts), for
             a referrer and for the admin (every referral)
  baseline   the floor of any ledger: one raw GROUP BY partner (count, latest) of the same
             referrals, rendered by a bare Jinja2 table
  digest     the weekly digests (app.digests.build_report), in ms per digest
  baseline   the same facts raw: each referrer's waiting count and first page of waiting
             referrals, the firm's GROUP BY partner, rendered by a bare Jinja2 table

and prints each page's server time and its ratio to the baseline. Figures are
printed, never asserted: these machines are noisy.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jinja2  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from mailflow.adapters.store import Store, to_db  # noqa: E402
from mailflow.app.digests import build_report  # noqa: E402
from mailflow.app.wiring import App, build_app  # noqa: E402
from mailflow.config import parse_config  # noqa: E402
from mailflow.web.app import create_app  # noqa: E402
from mailflow.web.auth import issue_link  # noqa: E402

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)
REFERRERS = ("alice@firm.example", "ben@firm.example", "cara@firm.example")
ADMIN = "boss@firm.example"  # signs in to see every referrer's
ROW = jinja2.Template("<table>{% for r in rows %}<tr><td>R-{{ r[0] }}</td><td>{{ r[1] }}</td>"
                      "<td>{{ r[2] }}</td><td>{{ r[3] }}</td><td>{{ r[4] }}</td></tr>"
                      "{% endfor %}</table>", autoescape=True)


def fill(path: Path, referrals: int, partners: int) -> None:
    store = Store(path)
    conn = store.db.conn
    with store.atomic():
        conn.executemany("insert into partners (id, name, niche, notes, domain, source) "
                         "values (?, ?, 'niche', '', null, 'cli')",
                         [(p, f"Partner {p}") for p in range(1, partners + 1)])
        conn.executemany("insert into partner_emails (email, partner_id) values (?, ?)",
                         [(f"p{p}@firm{p}.example", p) for p in range(1, partners + 1)])
        rows, events = [], []
        for n in range(1, referrals + 1):
            created = NOW - timedelta(minutes=5 * (referrals - n))  # about a year at 100k
            partner = f"p{n % partners + 1}@firm{n % partners + 1}.example"
            closed = n % 3 == 0
            rows.append((n, "closed" if closed else "open", "given", REFERRERS[n % 3],
                         f"client{n}@mail.example", partner, f"Intro {n}", to_db(created),
                         f"<i{n}@firm.example>", "done" if closed else None,
                         to_db(created + timedelta(hours=5)) if n % 2 else None,
                         to_db(created + timedelta(days=9)) if closed else None,
                         "Client, meet partner.", "[]", "{}", 4 if closed else None))
            for kind in ("intake", "sent", "contact-seen", "closed" if closed else "sent"):
                events.append((n, to_db(created), kind, "mailflow", ""))
        conn.executemany("insert into referrals (id, status, direction, referrer, client, "
                         "partner, subject, created_at, intro_message_id, outcome, "
                         "contacted_at, closed_at, context, candidates, names, rating) "
                         "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("insert into events (referral_id, at, kind, actor, detail) "
                         "values (?, ?, ?, ?, ?)", events)
    store.close()


def signed_in(app: App, who: str) -> TestClient:
    """A browser of the site, signed in as `who` by an emailed link."""
    client = TestClient(create_app(app, now=lambda: NOW, public_url="http://bench.test"),
                        base_url="http://bench.test")
    link = issue_link(app, who, NOW, "http://bench.test")
    shown = client.get(link.replace("http://bench.test", ""))
    button = re.search(r'name="t" value="([^"]*)">\s*<input type="hidden" name="auth" '
                       r'value="([^"]*)"', shown.text)
    assert button is not None, "the sign-in page shows its button"
    signed = client.post("/auth", data={"t": html.unescape(button.group(1)),
                                        "auth": button.group(2)})
    assert signed.status_code == 200 and who in signed.text
    return client


def median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def server_ms(client: TestClient, path: str, repeat: int) -> float:
    """The site's own time (its Server-Timing header), without the test client's."""
    times = []
    for _ in range(repeat):
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        times.append(float(response.headers["server-timing"].split("dur=")[1]))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        root = Path(workdir)
        started = time.perf_counter()
        fill(root / "bench.db", args.referrals, args.partners)
        print(f"store: {args.referrals} referrals, {args.partners} partners, "
              f"{4 * args.referrals} events (built in {time.perf_counter() - started:.1f} s)")
        config = parse_config({"tracker": "referrals@firm.example", "database": "bench.db",
                               "referrers": ["*@firm.example"], "outbox_dir": "outbox",
                               "maildir": "mail", "admin": ADMIN}, root / "mailflow.yaml")
        app = build_app(config)
        client = signed_in(app, REFERRERS[0])
        admin = signed_in(app, ADMIN)
        raw = app.store.db.conn

        def baseline_list() -> str:
            rows = raw.execute("select id, status, client, partner, subject from referrals "
                               "where referrer = ? order by created_at, id limit 50",
                               [REFERRERS[0]]).fetchall()
            return ROW.render(rows=rows)

        def baseline_ledger(referrer: str | None) -> str:
            mine = "where referrer = ?" if referrer else ""
            rows = raw.execute(f"select partner, count(*), max(created_at) from referrals "
                               f"{mine} group by partner", [referrer] if referrer else []
                               ).fetchall()
            return ROW.render(rows=[(i, p, n, at, "") for i, (p, n, at) in enumerate(rows)])

        def baseline_digests() -> int:
            counts = raw.execute("select referrer, count(*) from referrals where status != "
                                 "'closed' group by referrer").fetchall()
            firm = baseline_ledger(None)
            for referrer, _ in counts:
                rows = raw.execute("select id, status, client, partner, subject from "
                                   "referrals where referrer = ? and status != 'closed' "
                                   "order by created_at limit 50", [referrer]).fetchall()
                ROW.render(rows=rows) + firm
            return len(counts)

        results = {"list": (server_ms(client, "/referrals", args.repeat),
                            median_ms(baseline_list, args.repeat))}
        for who, browser, referrer in (("", client, REFERRERS[0]), ("admin ", admin, None)):
            for period in ("all", "year", "quarter"):
                results[f"ledger {who}{period}"] = (
                    server_ms(browser, f"/ledger?period={period}", args.repeat),
                    median_ms(lambda r=referrer: baseline_ledger(r), args.repeat))
        digests = build_report(app, NOW)
        results["digest (ms per digest)"] = (
            median_ms(lambda: build_report(app, NOW), args.repeat) / len(digests),
            median_ms(baseline_digests, args.repeat) / len(digests))
        for page, (ours, base) in results.items():
            print(f"{page:<23} {ours:8.1f} ms   raw SQLite + Jinja2 {base:8.1f} ms   "
                  f"ratio {ours / base:5.2f}x")
        print(f"digest: {len(digests)} referrers' weekly digests (each of about "
              f"{args.referrals // len(REFERRERS)} referrals, "
              f"{max(len(d.text) for d in digests.values()) / 1e3:.0f} kB of text at most)")
        print(json.dumps({k: {"ms": v[0], "baseline_ms": v[1]} for k, v in results.items()}))
        client.close()
        admin.close()
        app.close()


if __name__ == "__main__":
    main()
