"""Renderers: one report, many faces (JSON for tools, colour for terminals, HTML for people)."""

from .json import to_json
from .terminal import render_check, render_repaired, render_trace, repair_summary

__all__ = ["render_check", "render_repaired", "render_trace", "repair_summary", "to_json"]
