"""The shared kernel every app may import, and that imports none of them:
one API error shape (`api`), the one PostgreSQL seam (`db`), environment
readers (`env`), logging (`logs`, `redaction`), safe CSV (`csv_safety`) and
the client's address (`addresses`)."""
