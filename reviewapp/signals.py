"""Signals other apps listen to, so the core need not import them."""

from django.dispatch import Signal

# Sent with review= and user= when someone leaves a review or stops being a researcher in
# it (screening returns their open records to the pool).
researcher_left = Signal()
