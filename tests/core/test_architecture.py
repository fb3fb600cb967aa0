"""The import rules and invariants of ARCHITECTURE.md, read from the source itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "mailflow"
OUTSIDE = {"imapclient", "smtplib", "sqlite_utils", "sqlite3", "jinja2", "msal", "requests"}
SQL = re.compile(r"\b(select\s+.+\s+from|insert\s+into|update\s+\w+\s+set|delete\s+from)\b",
                 re.IGNORECASE)


def _modules() -> dict[str, ast.Module]:
    return {str(path.relative_to(PACKAGE)): ast.parse(path.read_text(), str(path))
            for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_core_imports_only_the_core_and_the_standard_library() -> None:
    for name, tree in _modules().items():
        if not name.startswith("core/"):
            continue
        ours = {i for i in _imports(tree) if i.startswith("mailflow")}
        assert all(i.startswith("mailflow.core") for i in ours), (name, ours)
        assert not _imports(tree) & (OUTSIDE | {"yaml", "subprocess", "os", "socket"}), name


def test_no_arrow_runs_back_up() -> None:
    """The app, the core and the adapters know neither the command line nor the web; the
    web does not know the command line (both sit on top of the app)."""
    top = ("mailflow.cli", "mailflow.web")
    above = {"core/": top, "adapters/": top, "app/": top, "web/": ("mailflow.cli",)}
    for name, tree in _modules().items():
        forbidden = next((f for layer, f in above.items() if name.startswith(layer)), ())
        up = {i for i in _imports(tree) for f in forbidden if i == f or i.startswith(f + ".")}
        assert not up, f"{name} imports {up}"


def test_message_ids_are_minted_in_one_place() -> None:
    """Only core.message_ids builds the Message-ID of an email we send (an inbound message
    without one is named `…@mailflow.invalid`; the demo quotes ours in its replies)."""
    allowed = {"core/message_ids.py", "cli/demo.py"}
    for name, tree in _modules().items():
        if name in allowed:
            continue
        built = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                 and isinstance(n.value, str) and "@mailflow." in n.value
                 and n.value != "@mailflow.invalid"]
        assert not built, f"{name} builds a Message-ID: {built}"


def test_only_adapters_import_outside_systems() -> None:
    for name, tree in _modules().items():
        if name.startswith("adapters/"):
            continue
        used = {i.split(".")[0] for i in _imports(tree)} & OUTSIDE
        assert not used, f"{name} imports {used}: only mailflow/adapters/ may"


def test_no_sql_outside_the_store() -> None:
    for name, tree in _modules().items():
        if name.startswith("adapters/store/") or name == "adapters/migrations.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not SQL.search(node.value), f"SQL in {name}: {node.value[:60]!r}"
            if isinstance(node, ast.Attribute) and node.attr in ("db", "execute", "conn"):
                raise AssertionError(f"{name} reaches into the database ({node.attr})")


def test_only_the_dispatcher_calls_a_mailer() -> None:
    for name, tree in _modules().items():
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                 and n.attr == "send_batch"]
        if calls:
            assert name == "app/dispatch.py" or name.startswith("adapters/"), name


def test_only_an_erasure_deletes_mail() -> None:
    """mailflow never deletes mail, but for `forget`: only app/privacy.py expunges."""
    for name, tree in _modules().items():
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                 and n.attr in ("expunge_mentioning", "uid_expunge", "expunge")]
        if calls and not name.startswith("adapters/"):
            assert name == "app/privacy.py", f"{name} deletes mail"


def concrete_of(tree: ast.Module) -> set[str]:
    return {i for i in _imports(tree) if i.endswith(("imap_mailbox", "maildir_mailbox"))}


def test_only_wiring_names_concrete_mailboxes_and_reads_imap_settings() -> None:
    for name, tree in _modules().items():
        if name in ("app/wiring.py", "config.py") or name.startswith("adapters/"):
            continue
        concrete = set() if name == "cli/demo.py" else concrete_of(tree)  # it delivers demo mail
        assert not concrete, f"{name} imports {concrete}"
        reads = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "imap"
                 and isinstance(n.value, ast.Attribute) and n.value.attr == "config"]
        assert not reads, f"{name} reads config.imap"


def test_no_capability_is_probed_with_getattr() -> None:
    for name, tree in _modules().items():
        probes = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                  and isinstance(n.func, ast.Name) and n.func.id in ("getattr", "hasattr")
                  and len(n.args) >= 2 and isinstance(n.args[1], ast.Constant)
                  and n.args[1].value in ("append", "idle_wait", "has_idle", "push_ready")]
        assert not probes, name


def _store_writes() -> set[str]:
    """The Store methods that write: their SQL inserts, updates, deletes or upserts."""
    methods = [m for name, tree in _modules().items() if name.startswith("adapters/store/")
               for cls in tree.body if isinstance(cls, ast.ClassDef)
               for m in cls.body if isinstance(m, ast.FunctionDef)]
    writes = set()
    for method in methods:
        text = ast.unparse(method).lower()
        if any(w in text for w in ('"insert ', "'insert ", '"update ', "'update ", '"delete ',
                                   "'delete ", ".upsert(", "self._update(")):
            writes.add(method.name)
    # and the methods that write through another (add_referral through _insert_referral)
    calls = {m.name: {n.func.attr for n in ast.walk(m) if isinstance(n, ast.Call)
                      and isinstance(n.func, ast.Attribute)
                      and ast.unparse(n.func.value) == "self"} for m in methods}
    while grown := {name for name, called in calls.items()
                    if name not in writes and called & writes}:
        writes |= grown
    return writes


# who writes to the store, and why there: the executor applies every decision's effects;
# the rest write what is not a decision about a referral (mail and outbox bookkeeping,
# clocks, sessions, the partner directory), each in its own transaction
STORE_WRITERS = {
    "app/executor.py": "applies every decision",
    "app/planning.py": "outbox rows from the plan",
    "app/dispatch.py": "records each email's result",
    "app/ingest.py": "message records, the cursor, the first run's clock",
    "app/cycle.py": "last poll and send",
    "app/alerts.py": "incident clocks",
    "app/digests.py": "digest clocks",
    "app/outgoing.py": "queues an email about no referral",
    "app/directory.py": "the partner directory and its audit",
    "app/privacy.py": "an erasure (rows as core.privacy decides) and retention",
    "app/wiring.py": "the installation secret",
    "web/sessions.py": "web sessions",
    "web/auth.py": "sign-in links",
}


def test_only_the_listed_modules_write_to_the_store() -> None:
    writes = _store_writes()
    assert {"add_referral", "update_referral", "add_event", "add_outbox", "opt_out"} <= writes
    writers: dict[str, set[str]] = {}
    for name, tree in _modules().items():
        if name.startswith("adapters/"):
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in writes and "store" in ast.unparse(node.func.value)):
                writers.setdefault(name, set()).add(node.func.attr)
    unexpected = {name: calls for name, calls in writers.items() if name not in STORE_WRITERS}
    assert not unexpected, f"store writes outside the allowed modules: {unexpected}"


def test_the_store_is_split_by_job_behind_one_facade() -> None:
    """A module per table group, each small; none reaches into another's tables' SQL."""
    modules = {name: tree for name, tree in _modules().items()
               if name.startswith("adapters/store/")}
    assert {"adapters/store/base.py", "adapters/store/referrals.py",
            "adapters/store/outbox.py", "adapters/store/contacts.py",
            "adapters/store/messages.py", "adapters/store/web.py"} <= set(modules)
    tables = {"referrals.py": ("referrals", "events", "undo", "replan"),
              "outbox.py": ("outbox",), "messages.py": ("messages", "cursors"),
              "web.py": ("signins", "web_sessions"),
              "contacts.py": ("contacts", "opt_outs", "pauses", "partners",
                              "partner_emails", "partner_changes", "forget_requests",
                              "opt_out_hashes")}
    owner = {table: module for module, names in tables.items() for table in names}
    written = re.compile(r"\b(?:insert(?: or \w+)? into|update|delete from)\s+\[?(\w+)",
                         re.IGNORECASE)
    for module in tables:
        tree = modules[f"adapters/store/{module}"]
        found = [table for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, str)
                 for table in written.findall(node.value)]
        assert found, f"{module} writes nothing the rule can see"
        for table in found:
            assert owner.get(table, module) == module, \
                f"{module} writes {table}, which is {owner.get(table)}'s"
