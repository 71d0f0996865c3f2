"""The one place where hkd makes fairseq 0.12.2 work on Python 3.11 and torch >= 2.6.

fairseq 0.12.2 (2022, the toolkit of the HKD paper) is no longer maintained and breaks on the
versions this project runs with. tools/install.sh installs it with ``pip install --no-deps`` next to
hydra-core 1.3.2 and omegaconf 2.3.0 (its own pins, hydra-core 1.0 and omegaconf 2.0, do not install
or import on Python 3.11), then runs this module, which edits the installed package in place:

1. ``dataclass-defaults``: Python 3.11 refuses a dataclass field whose default is an instance of an
   unhashable class (``common: CommonConfig = CommonConfig()``): such fields become
   ``field(default_factory=CommonConfig)``. ``hydra_init`` read ``field.default`` and must now call the
   factory.
2. ``torch-load``: torch 2.6 made ``torch.load(weights_only=True)`` the default; fairseq checkpoints
   hold argparse namespaces and omegaconf objects, so fairseq's own checkpoint loading passes
   ``weights_only=False`` (these are checkpoints this workflow wrote itself).
3. ``better-transformer``: the encoder's "BetterTransformer" fast path
   (``torch._transformer_encoder_layer_fwd`` with nested tensors) fails at generation time with
   "Mask Type should be defined" on recent torch; it is switched off, which leaves the standard path.

Every edit is a text substitution that is checked: applying is idempotent (an applied edit is
recognised and left alone), and a file that matches neither the pristine nor the patched form is an
error naming the file, so a different fairseq version cannot be half-patched silently.

    python -m hkd.fairseq_compat --apply     # patch the fairseq that this Python imports
    python -m hkd.fairseq_compat --check     # exit 1 if any edit is still pending
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from hkd.fileio import atomic_outputs

log = logging.getLogger("hkd.fairseq_compat")

EXPECTED_VERSION = "0.12.2"

# `    common: CommonConfig = CommonConfig()`  ->  `    common: CommonConfig = field(default_factory=CommonConfig)`
_INSTANCE_DEFAULT = re.compile(r"^(?P<indent>[ \t]+)(?P<name>\w+): (?P<cls>\w+) = (?P=cls)\(\)[ \t]*$", re.M)
# `field(default=QuantNoiseConfig())`  ->  `field(default_factory=QuantNoiseConfig)`
_FIELD_INSTANCE_DEFAULT = re.compile(r"field\(default=(?P<cls>[A-Z]\w*)\(\)\)")
_HAS_FIELD_IMPORT = re.compile(r"^from dataclasses import [^\n]*\bfield\b", re.M)


@dataclass(frozen=True)
class Edit:
    """One exact substitution in one file of the fairseq package."""

    name: str
    path: str  # relative to the fairseq package folder
    old: str
    new: str


EDITS = [
    Edit(
        "dataclass-defaults",
        "dataclass/initialize.py",
        "        v = FairseqConfig.__dataclass_fields__[k].default\n",
        "        f = FairseqConfig.__dataclass_fields__[k]  # hkd-compat: default_factory\n"
        "        v = f.default_factory() if callable(f.default_factory) else f.default\n",
    ),
    Edit(
        "torch-load",
        "checkpoint_utils.py",
        '        state = torch.load(f, map_location=torch.device("cpu"))\n',
        '        state = torch.load(f, map_location=torch.device("cpu"), weights_only=False)\n',
    ),
    Edit(
        "torch-load",
        "checkpoint_utils.py",
        "        new_state = torch.load(\n            f,\n",
        "        new_state = torch.load(\n            f,\n            weights_only=False,\n",
    ),
    Edit(
        "torch-load",
        "distributed/utils.py",
        '        obj = torch.load(buffer, map_location="cpu")\n',
        '        obj = torch.load(buffer, map_location="cpu", weights_only=False)\n',
    ),
    Edit(
        "better-transformer",
        "modules/transformer_layer.py",
        "        if (\n            self.BT_version\n            and x.dim() == 3\n",
        "        if (\n            False  # hkd-compat: BetterTransformer fast path off\n"
        "            and self.BT_version\n            and x.dim() == 3\n",
    ),
    Edit(
        "better-transformer",
        "models/transformer/transformer_encoder.py",
        "        if (\n            BT_version\n            and x.dim() == 3\n",
        "        if (\n            False  # hkd-compat: BetterTransformer fast path off\n"
        "            and BT_version\n            and x.dim() == 3\n",
    ),
]


class CompatError(RuntimeError):
    """The installed fairseq does not look like the one these edits were written for."""


def fix_dataclass_defaults(text: str) -> str:
    """Rewrite instance defaults of dataclass fields to default factories (pure; idempotent)."""
    if "@dataclass" not in text:
        return text
    new = _INSTANCE_DEFAULT.sub(r"\g<indent>\g<name>: \g<cls> = field(default_factory=\g<cls>)", text)
    new = _FIELD_INSTANCE_DEFAULT.sub(r"field(default_factory=\g<cls>)", new)
    if new != text and not _HAS_FIELD_IMPORT.search(new):
        new = _add_field_import(new)
    return new


def _add_field_import(text: str) -> str:
    """Insert `from dataclasses import field` after the module's docstring and __future__ imports."""
    lines = text.splitlines(keepends=True)
    at = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(("import ", "from ")):
            at = i
            break
    while at < len(lines) and lines[at].startswith("from __future__"):
        at += 1
    lines.insert(at, "from dataclasses import field  # hkd-compat\n")
    return "".join(lines)


def apply_edit(text: str, edit: Edit, where: str) -> str:
    """Apply one exact edit; an already-applied edit is a no-op; anything else is an error."""
    if edit.new in text:
        return text
    count = text.count(edit.old)
    if count != 1:
        raise CompatError(
            f"{where}: expected exactly one occurrence of the text for edit '{edit.name}', found {count}; "
            f"is this fairseq {EXPECTED_VERSION}?"
        )
    return text.replace(edit.old, edit.new)


def patched_sources(root: Path) -> dict[Path, str]:
    """Map each file under the fairseq folder `root` that needs a change to its patched text."""
    changed: dict[Path, str] = {}
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        new = fix_dataclass_defaults(text)
        if new != text:
            changed[path] = new
    for edit in EDITS:
        path = root / edit.path
        if not path.is_file():
            raise CompatError(f"{path}: missing file for edit '{edit.name}'; is this fairseq {EXPECTED_VERSION}?")
        text = changed.get(path, path.read_text(encoding="utf-8"))
        new = apply_edit(text, edit, str(path))
        if new != path.read_text(encoding="utf-8"):
            changed[path] = new
    return changed


def _write_atomic(path: Path, text: str) -> None:
    """Replace a source file of the package, keeping its mode."""
    with atomic_outputs({0: path}) as tmps:
        tmps[0].write_text(text, encoding="utf-8")
        os.chmod(tmps[0], path.stat().st_mode & 0o777)


def apply(root: Path) -> list[Path]:
    """Patch the fairseq package folder `root` in place; returns the files that changed."""
    changed = patched_sources(root)
    for path, text in changed.items():
        _write_atomic(path, text)
        stale = path.parent / "__pycache__"
        for pyc in stale.glob(f"{path.stem}.*.pyc"):
            pyc.unlink()
    return sorted(changed)


def fairseq_root() -> Path:
    """Folder of the fairseq package this interpreter would import, found without importing it."""
    spec = importlib.util.find_spec("fairseq")
    if spec is None or not spec.submodule_search_locations:
        raise CompatError("fairseq is not installed in this Python; run tools/install.sh")
    root = Path(list(spec.submodule_search_locations)[0])
    version = importlib.metadata.version("fairseq")
    if version != EXPECTED_VERSION:
        raise CompatError(f"{root}: fairseq {version} installed, these edits are for {EXPECTED_VERSION}")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--apply", action="store_true", help="patch the installed fairseq (idempotent)")
    mode.add_argument("--check", action="store_true", help="exit 1 when an edit is still pending")
    parser.add_argument("--root", type=Path, help="fairseq package folder (default: the installed one)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    root = args.root or fairseq_root()
    if args.check:
        pending = sorted(patched_sources(root))
        for path in pending:
            log.error("pending compatibility edit: %s", path)
        log.info("%s: %s", root, "edits pending" if pending else "all compatibility edits applied")
        return 1 if pending else 0
    changed = apply(root)
    log.info("%s: %d file(s) patched%s", root, len(changed), "" if changed else " (already applied)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
