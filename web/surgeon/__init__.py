"""The surgeon's page: `/surgeon/`."""
