"""The follow-up figures page: `/reports/`."""
