"""Booking links: a patient books, moves or gives up a visit's time from a
secret URL (`/p/<token>/`, SPEC section 8), through the desk's services."""
