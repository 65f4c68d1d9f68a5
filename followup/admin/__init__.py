"""The clinic admin's screens: the protocol, and the clinic's records.

- protocol: follow-up rules, recovery milestones, consultation sessions, visits
- records: patients, surgeons and procedures, saved through the services
- api_tokens: who holds an API token and until when; revoking one
- audit: the audit trail (writes and patient views), read-only
"""

from followup.admin import api_tokens, audit, protocol, records

__all__ = ["api_tokens", "audit", "protocol", "records"]
