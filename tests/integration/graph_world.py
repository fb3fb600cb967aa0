"""A mailflow world on the local Microsoft 365 (tests/integration/graph_server.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailflow.app import wiring
from mailflow.cli.parser import main
from mailflow.core.model import InboundMessage
from mailflow.core.parse import parse_message
from tests.integration.graph_server import CLIENT_ID, TENANT, GraphServer, running_graph


@pytest.fixture(scope="module")
def graph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphServer]:
    with running_graph(tmp_path_factory.mktemp("graph")) as server:
        yield server


@dataclass
class GraphWorld:
    server: GraphServer
    config: Path
    capsys: pytest.CaptureFixture[str]

    def main(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        status = main(["--config", str(self.config), *args])
        out, err = self.capsys.readouterr()
        return status, out, err

    def login(self, pending: int = 1) -> None:
        self.server.state.device_answers = ["authorization_pending"] * pending
        status, _, err = self.main("login")
        assert status == 0, err

    def run(self, now: str) -> None:
        status, _, err = self.main("run", "--once", "--now", now)
        assert status == 0, err

    def cli_json(self, *args: str) -> object:
        status, out, err = self.main(*args, "--json")
        assert status == 0, err
        return json.loads(out)

    def sent(self) -> list[InboundMessage]:
        return [parse_message(raw) for raw in self.server.state.sent]

    def folder(self, path: str) -> list[bytes]:
        found = self.server.state.named(path)
        return list(found.messages.values()) if found is not None else []

    def inbox(self) -> list[bytes]:
        return list(self.server.state.well_known("inbox").messages.values())

    def write(self, microsoft: str = "", rest: str = "") -> None:
        server = self.server
        self.config.write_text(f"""
tracker: referrals@firm.example
database: mailflow.db
timezone: Europe/London
referrers: ["*@firm.example"]
partners:
  - {{email: bob@law.example, name: Bob Smith, niche: estate planning}}
microsoft:
  tenant: {TENANT}
  client_id: {CLIENT_ID}
  authority: {server.url}
  graph_url: {server.url}
  ca_file: {server.ca.ca_file}
{microsoft}
{rest}
""")


def graph_world(graph_server: GraphServer, tmp_path: Path,
                capsys: pytest.CaptureFixture[str]) -> Iterator[GraphWorld]:
    graph_server.reset()
    wiring._identity.cache_clear()  # each test signs in afresh, with its own cache file
    world = GraphWorld(graph_server, tmp_path / "mailflow.yaml", capsys)
    world.write()
    yield world
    wiring._identity.cache_clear()


world_fixture = pytest.fixture(graph_world, name="world")
