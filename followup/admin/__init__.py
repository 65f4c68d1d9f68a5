"""The clinic admin's screens: the protocol, and the clinic's records.

- protocol: follow-up rules, recovery milestones, consultation sessions, visits
- records: patients, surgeons and procedures, saved through the services
"""

from followup.admin import protocol, records

__all__ = ["protocol", "records"]
