"""Members talk back: feedback threads between a member and staff.

`open_thread` is the one entry other code uses (the surveys open a follow-up
thread for a detractor's answer with it); `threads` holds the member's side,
`staff` the staff's (replies that notify, internal notes, assignment, status)."""

from webapp.services.feedback.staff import (
    StatusConflict,
    add_note,
    assign,
    set_status,
    staff_reply,
)
from webapp.services.feedback.threads import (
    FeedbackInvalid,
    ThreadNotFound,
    member_reply,
    open_thread,
)

__all__ = [
    "FeedbackInvalid",
    "StatusConflict",
    "ThreadNotFound",
    "add_note",
    "assign",
    "member_reply",
    "open_thread",
    "set_status",
    "staff_reply",
]
