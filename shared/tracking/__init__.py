"""Tracking: the tracker script's builds and the snippet sites paste into their pages."""
