"""Emailing people about comments. Filled in by its own change; until then nothing is sent
(the Notification rows wait, unsent)."""


def queue_immediate(notification_ids):
    """Send the notifications whose owners want email straight away (after the commit)."""
