"""mailflow: referral follow-up over email."""

__version__ = "0.1.0"
