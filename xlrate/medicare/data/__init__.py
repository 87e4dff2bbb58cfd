"""Embedded Medicare data, built by scripts/build_embedded_data.py."""
