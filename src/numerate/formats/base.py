"""The formats registry (kept apart from the package so format modules can register without an import cycle)."""

from numerate.registry import Registry

FORMATS: Registry = Registry("format")
