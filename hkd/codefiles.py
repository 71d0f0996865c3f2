"""The source files a workflow step runs: its modules and every hkd / hkd_fairseq module they import.

A rule declares these files as inputs (rules/common.smk, ``code(...)``), so that editing any of them
reruns the step (by modification time, and with ``--rerun-triggers code``), as paths relative to the
working directory (``workdir_paths``): a finished run moved or copied elsewhere has nothing to do. The imports are read
from the source (``ast``, every ``import`` and ``from ... import`` of hkd or hkd_fairseq, at any
depth in the file, lazy imports too), never by importing it. The plugin package's ``__init__`` is
counted whenever one of its modules is (fairseq imports the package first), but the imports in it
(the registration of every task and criterion) are not followed: a teacher, which runs fairseq's own
translation task with the plugin's curve recorder, does not depend on the distillation code.

    python -m hkd.codefiles hkd.train hkd_fairseq.curve     # prints hkd/train.py hkd/fairseq_args.py ...
"""

from __future__ import annotations

import ast
import os
import re
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hkd", "hkd_fairseq")
UNFOLLOWED = {"hkd_fairseq"}  # packages whose __init__ is counted but whose imports are not followed


def module_file(module: str, root: Path = ROOT) -> Path | None:
    """The file of a dotted module name under `root` (a package: its __init__.py), None if none."""
    path = root.joinpath(*module.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return None


# a line that starts an import statement (at any indentation: lazy imports too)
IMPORT_LINE = re.compile(r"[ \t]*(?:from[ \t]+\S+[ \t]+import\b|import[ \t])")


def import_statements(source: str) -> list[str]:
    """The import statements of a source, each dedented and with its continuation lines (a
    parenthesised name list, a trailing backslash). Parsing only these is several times faster than
    parsing the whole file, which every Snakemake start does for every module a rule runs; a prose
    line that merely starts like one is not Python and is dropped by the parse."""
    lines, statements, i = source.splitlines(), [], 0
    while i < len(lines):
        if IMPORT_LINE.match(lines[i]):
            statement = lines[i].strip()
            while (statement.count("(") > statement.count(")") or statement.endswith("\\")) and i + 1 < len(lines):
                i += 1
                statement += "\n" + lines[i].strip()
            statements.append(statement)
        i += 1
    return statements


def imported_modules(source: str, module: str, root: Path = ROOT) -> list[str]:
    """The hkd / hkd_fairseq modules that a module's source imports (existing files only)."""
    found = []
    nodes = []
    for statement in import_statements(source):
        try:
            nodes.extend(ast.walk(ast.parse(statement)))
        except SyntaxError:  # prose in a docstring ("from the source ...")
            continue
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the module's package
                base = module.split(".")[: -node.level]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            names = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in PACKAGES and module_file(name, root) is not None:
                found.append(name)
    return found


@lru_cache(maxsize=None)
def _module_imports(module: str, path: Path, root: Path) -> tuple[str, ...]:
    """imported_modules of one module's file, parsed once per Snakemake process (many rules share
    modules: parsing every closure afresh cost a third of a second of every dry run)."""
    return tuple(imported_modules(path.read_text(encoding="utf-8"), module, root))


@lru_cache(maxsize=None)
def _closure(modules: tuple[str, ...], root: Path) -> tuple[str, ...]:
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        module = todo.pop()
        path = module_file(module, root)
        if path is None:
            raise FileNotFoundError(f"module {module} has no file under {root}")
        if module in seen:
            continue
        seen[module] = path
        parts = module.split(".")
        for i in range(1, len(parts)):  # Python imports the packages on the way
            package = ".".join(parts[:i])
            if module_file(package, root) is not None:
                todo.append(package)
        if module in UNFOLLOWED:
            continue
        todo.extend(_module_imports(module, path, root))
    return tuple(sorted({p.relative_to(root).as_posix() for p in seen.values()}))


def code_files(modules: list[str], root: Path = ROOT) -> list[str]:
    """The files (relative to `root`, sorted) of `modules` and of everything they import, transitively."""
    return list(_closure(tuple(modules), Path(root)))


def workdir_paths(files: list[str], root: Path = ROOT, cwd: Path | None = None) -> list[str]:
    """`files` (relative to `root`) as paths relative to the working directory `cwd`: through a
    folder of `cwd` that is, or links to, the file's package folder (``hkd/train.py`` in the
    repository itself, and in a run folder that links ``hkd`` and ``hkd_fairseq`` to it: such paths
    stay the same when the run folder is moved or copied), else the relative path from `cwd`."""
    cwd = Path(cwd or os.getcwd())
    result = []
    for name in files:
        package = name.split("/")[0]
        if (cwd / package).resolve() == (Path(root) / package).resolve():
            result.append(name)
        else:
            result.append(os.path.relpath(Path(root) / name, cwd))
    return result


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="+", help="dotted module names, e.g. hkd.train hkd_fairseq.curve")
    args = parser.parse_args(argv)
    print(" ".join(code_files(args.modules)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
