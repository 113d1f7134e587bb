"""Example metrics plugin: see metric.py (factory style) and hooks.py (hook style)."""
