"""The clinic's records: who was operated on, by whom, and what was done.

Owns Patient, Surgeon and Procedure (models.py), the procedure kinds
(kinds.py), the staff's roles (staff.py) and the clinic's clock (clock.py).
The lowest layer: it imports no other app of the project.
"""
