"""A few kill -9 trials in CI (`python3 -m tests.faults.trials --trials 200` for the long run)."""

from __future__ import annotations

import os
import random
from itertools import count
from pathlib import Path

import pytest

from tests.faults.trials import Tally, compare, run_scenario
from tests.integration.dovecot_server import DovecotServer

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]
TRIALS = int(os.environ.get("MAILFLOW_FAULT_TRIALS", "3"))
_users = count(400)  # above the users the other tests take


def test_kill_9_at_random_points_loses_and_duplicates_nothing(dovecot: DovecotServer,
                                                              tmp_path: Path) -> None:
    clean = run_scenario(dovecot, next(_users), tmp_path / "clean", None)
    assert len(clean.referrals) == 6 and clean.sent_keys
    tally = Tally()
    for trial in range(TRIALS):
        faulty = run_scenario(dovecot, next(_users), tmp_path / f"t{trial}",
                              random.Random(trial), kill_chance=0.7)
        compare(clean, faulty, tally)
    assert tally.kills > 0
    assert (tally.lost_intros, tally.duplicate_referrals, tally.twice_under_new_ids,
            tally.differing_outcomes) == (0, 0, 0, 0), tally
