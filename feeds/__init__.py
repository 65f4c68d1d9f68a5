"""The calendars: subscription feeds, their links, and the CalDAV export.

Owns each visit's rendered calendar entry, feed versions, links and their
tokens, and the Celery export to surgeons' CalDAV calendars. The top layer
of the domain: it may import `clinic` and `followup`; neither imports it.
It registers its change handler with `followup.changes` in apps.py.
"""
