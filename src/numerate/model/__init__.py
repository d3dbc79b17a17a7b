"""The model: a decoder-only transformer that sees only token ids; positional schemes plug in through hooks."""
