"""The shell's running parts: one cycle from mailbox to outbox, and the daemon."""
