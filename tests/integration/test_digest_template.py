"""The digest's HTML ledger through the real Jinja2 renderer: bars and legend agree."""

from __future__ import annotations

from mailflow.adapters.renderer import Renderer
from mailflow.cli.checks import digest_sample


def test_no_green_bar_and_no_green_legend_when_nothing_was_received() -> None:
    html = Renderer().render("digest", digest_sample()).html or ""
    assert 'class="bar-given"' in html and 'class="bar-received"' not in html
    assert "Blue bars" in html and "Green bars" not in html


def test_bars_scale_to_the_largest_count_given_or_received() -> None:
    context = digest_sample()
    context["ledger"] = [{**context["ledger"][0], "given": 1, "received": 4}]  # type: ignore[index]
    context["max_count"] = 4
    html = Renderer().render("digest", context).html or ""
    assert "width:20px" in html and "width:80px" in html
    assert "Blue bars" in html and "Green bars" in html


def test_alerts_come_from_their_template_and_survive_a_broken_override(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from mailflow.app import alerts
    from mailflow.app.wiring import build_app
    from mailflow.config import load_config
    from mailflow.core.parse import parse_message

    (tmp_path / "mail").mkdir()
    config = tmp_path / "mailflow.yaml"
    config.write_text("tracker: referrals@firm.example\nadmin: ops@firm.example\n"
                      "database: m.db\nmaildir: mail\noutbox_dir: outbox\n"
                      "referrers: ['*@firm.example']\n")
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # a night: alerts go out any hour
    app = build_app(load_config(config))
    alerts.failure(app, now, "IMAP login failed", urgent=True)
    (sent,) = [parse_message(p.read_bytes()) for p in (tmp_path / "outbox").glob("*.eml")]
    assert sent.subject == "mailflow needs attention: IMAP login failed"
    assert "failing since 24 Nov 2026 03:00" in sent.text  # as the admin's locale writes it
    app.close()

    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "alert.j2").write_text("{% block subject %}{{ nope.x }}"
                                                  "{% endblock %}{% block text %}{% endblock %}")
    # a fresh database (no incident yet) and an override that cannot render
    config.write_text(config.read_text().replace("database: m.db", "database: m2.db")
                      + "templates_dir: broken\n")
    app = build_app(load_config(config))
    alerts.failure(app, now, "SMTP refused", urgent=True)
    subjects = sorted(parse_message(p.read_bytes()).subject
                      for p in (tmp_path / "outbox").glob("*.eml"))
    assert "mailflow alert: failing" in subjects  # the facts still reach the admin
    app.close()
