"""Pushing visits to surgeons' CalDAV calendars: `client` speaks HTTP to the
server, `errors` puts its failures in words an admin can act on, `push` is
the export state machine over `CalendarEntry`, and `audit` compares what a
server holds with the database."""
