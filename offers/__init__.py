"""Freed slots offered to those who need them (SPEC section 8)."""
