"""Helpers shared by the profile tests (a launcher script and small utilities)."""
