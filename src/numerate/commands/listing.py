"""`numerate list`: the registered tasks, formats, positional schemes, auxiliary losses, proposers, procedures,
representations and presets."""

from __future__ import annotations


def add_parser(sub, help: str) -> None:
    """Declare `numerate list` (no arguments)."""
    sub.add_parser("list", help=help).set_defaults(func=command)


def command(args) -> int:
    from numerate.config import PRESET_KINDS, preset_kind, presets
    from numerate.formats import FORMATS
    from numerate.model.memory import MEMORIES
    from numerate.model.posenc import SCHEMES
    from numerate.iterate.proposers import PROPOSERS
    from numerate.lm.representations import REPRESENTATIONS
    from numerate.procedures import load_all
    from numerate.procedures.base import PROCEDURES
    from numerate.tasks import TASKS
    from numerate.train.auxiliary import AUX_LOSSES

    load_all()
    registries = (
        ("tasks", TASKS),
        ("formats", FORMATS),
        ("positional schemes", SCHEMES),
        ("memories (model.memory; 'none' = attention only)", MEMORIES),
        ("auxiliary losses (train.aux_loss; 'none' = next-token cross-entropy alone)", AUX_LOSSES),
        ("proposers (numerate iterate --proposer)", PROPOSERS),
        ("procedures over proven step models (procedure.yaml; models/gcd, ...)", PROCEDURES),
        ("representations for language models (numerate probe --representation)", REPRESENTATIONS),
    )
    for title, reg in registries:
        print(f"{title}:")
        for name in reg.names():
            print(f"  {name:<18} {reg.doc(name)}")
            if reg is SCHEMES:
                print(f"  {'':<18}   settings (model.* or model.posenc.{name}.*): {', '.join(reg.get(name).settings)}")
    import dataclasses

    from numerate.config import FormatConfig, ModelConfig

    sections = (
        (
            "representation options",
            "format",
            FormatConfig,
            ("reverse", "pad", "group", "group_from", "hints", "spaces", "negatives"),
        ),
        (
            "position and architecture options",
            "model",
            ModelConfig,
            (
                "pos_random_max",
                "pos_offset_max",
                "rel_clip",
                "col_window",
                "posenc",
                "input_injection",
                "recurrences",
                "test_recurrences",
                "memory",
                "halting",
            ),
        ),
    )
    for title, section, cls, keys in sections:
        print(f"{title}:")
        helps = {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}
        for key in keys:
            print(f"  {section + '.' + key:<24} {helps[key]}")
    found = presets()
    for kind, what in PRESET_KINDS.items():
        print(f"config presets, {kind} ({what}):")
        for name, path in found.items():
            if preset_kind(path) == kind:
                first = path.read_text().splitlines()[0].lstrip("# ").strip()
                print(f"  {name:<18} {first}")
    return 0
