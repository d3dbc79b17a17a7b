"""The application layer: one module per command-line verb. Library packages never import from here."""
