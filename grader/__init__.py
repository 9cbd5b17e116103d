"""Instructor tools for the backprop course: release, freshness checks, grading."""
