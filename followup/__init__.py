"""What happens after surgery: the protocol, the visits and their lifecycle.

Owns the rules as data and the pure planner (rules.py), Visit and its
history (models.py), every write (services/), who may do what (access.py),
the REST API (api/), the admin and the demo and import commands.
It may import `clinic`, never `feeds`: changes reach the calendars through
the handler registry in changes.py, which `feeds` fills at start-up.
"""
