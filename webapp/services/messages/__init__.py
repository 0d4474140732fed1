"""Messages: everything the club tells a member, on every channel.

A cause (a tier change, a redemption, a broadcast …) calls `notify*` in its own
transaction: one outbox row per (member, channel, cause key), UNIQUE, so a
replayed request or retried job writes nothing new. The inbox channel is a row
in the same database and is written at once; e-mail, SMS and push rows are
delivered after the commit by RQ workers (`delivery`), which apply the member's
consents, quiet hours and the daily marketing cap (`policy`), word the message
in the member's language (`render`) and hand it to the configured sender
(`channels`)."""

from webapp.services.messages.outbox import notify, notify_from, notify_many

__all__ = ["notify", "notify_from", "notify_many"]
