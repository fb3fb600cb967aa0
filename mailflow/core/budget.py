"""The work budget of one inbound message.

Every scan (reply words, partner hints, quote headers, return dates, bounce
wording) reads at most TEXT_BUDGET characters of text, and every scan is linear,
so no message costs more than a bounded amount of time whatever its size or
shape. Replies, intros and notices fit many times over; what lies beyond is kept
in the mailbox, never read for meaning.
"""

TEXT_BUDGET = 64 * 1024
HTML_BUDGET = 512 * 1024  # HTML is verbose; the text it turns into is held to TEXT_BUDGET
REPORT_BUDGET = 16 * 1024  # a delivery-status report
RAW_BUDGET = 4 * 1024 * 1024  # bytes of a message handed to the MIME parser
BASE64_LINES_KEPT = 1200  # of a longer base64 run (an attachment): about 90 KB decoded
