"""What a message says on its own, before the store is asked: the half of classification
that needs nothing but the message, so a parsing process can do it too."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from mailflow.core.commands import Command, parse_command
from mailflow.core.correlate import has_reply_prefix, subject_tag
from mailflow.core.model import InboundMessage
from mailflow.core.reply_text import new_text
from mailflow.core.robots import RobotVerdict, detect_robot
from mailflow.core.text_language import message_language


@dataclass(frozen=True)
class Reading:
    message: InboundMessage
    robot: RobotVerdict | None  # None: a person wrote it
    text: str  # what the sender wrote, without the quoted mail ("" for a robot's)
    command: Command | None  # the reply word in `text`, when `command_read`
    command_read: bool = True
    # the language `text` is written in, read with the reply word (a detector's work: in
    # the main process it was a twentieth of handling a first run's replies)
    language: str | None = None

    def command_in(self, text: str) -> Command | None:
        """The reply word in `text`, which is `self.text` or a part of it (a tag removed)."""
        return self.command if self.command_read and text == self.text else parse_command(text)

    def language_in(self, text: str) -> str | None:
        """The language of `text` (`self.text` or a part of it), else of the message's
        Content-Language header."""
        if self.command_read and text == self.text:
            return self.language
        return message_language(text, self.message.header("content-language"))


def may_answer(message: InboundMessage) -> bool:
    """Whether `message` shows a sign of answering earlier mail: thread headers, a reply or
    forward prefix, a referral tag. Only a hint for what to read ahead: the store decides."""
    return bool(message.thread_ids or has_reply_prefix(message.subject)
                or subject_tag(message.subject) is not None)


def read_message(message: InboundMessage, own_addresses: Collection[str], today: date,
                 read_command: bool = True) -> Reading:
    """`read_command`: False leaves the reply word to `command_in`, for when only a reply
    needs it and nothing would be saved by reading it ahead (no second process)."""
    robot = detect_robot(message, own_addresses, today)
    if robot is not None:  # never answered, so never read for a reply word
        return Reading(message, robot, "", None)
    text = new_text(message)
    if not read_command:
        return Reading(message, None, text, None, command_read=False)
    return Reading(message, None, text, parse_command(text), True,
                   message_language(text, message.header("content-language")))
