"""The clinic admin's screens: the protocol, and the clinic's records.

- protocol: follow-up rules, recovery milestones, consultation sessions, visits
- records: patients, surgeons and procedures, saved through the services
- api_tokens: who holds an API token and until when; revoking one
"""

from followup.admin import api_tokens, protocol, records

__all__ = ["api_tokens", "protocol", "records"]
