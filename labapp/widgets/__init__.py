"""The workbench widgets, one per module."""
