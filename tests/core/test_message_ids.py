"""Message-IDs of our own mail: what it is, the installation, the tracker's domain."""

from __future__ import annotations

from mailflow.core.message_ids import mint


def test_a_message_id_names_the_email_the_installation_and_the_domain() -> None:
    assert (mint("r7.partner_nudge.12", "k3x9", "referrals+in@firm.example")
            == "r7.partner_nudge.12.k3x9@mailflow.firm.example")
    assert mint("alert.20261124030000", "0", "referrals@firm.example").startswith("alert.")
