"""hkd.codefiles: the source files a step runs, and their paths relative to the working directory."""

import os

from hkd.codefiles import ROOT, code_files, imported_modules, workdir_paths


def test_a_teacher_runs_no_distillation_code_and_an_assistant_does():
    teacher = code_files(["hkd.train", "hkd_fairseq.curve"])
    assert {"hkd/train.py", "hkd/fairseq_args.py", "hkd_fairseq/__init__.py", "hkd_fairseq/curve.py"} <= set(teacher)
    assert "hkd/kd_loss.py" not in teacher and "hkd_fairseq/selective_kd.py" not in teacher
    assistant = code_files(["hkd.train", "hkd_fairseq.hkd_multilingual", "hkd_fairseq.selective_kd"])
    assert {"hkd/kd_loss.py", "hkd/selective.py", "hkd_fairseq/kd_stores.py", "hkd/topk_store.py"} <= set(assistant)
    assert "hkd/adaptive.py" not in assistant  # the student's criterion
    student = code_files(["hkd.train", "hkd_fairseq.hkd_multilingual", "hkd_fairseq.adaptive_kd"])
    assert {"hkd/adaptive.py", "hkd/kd_loss.py", "hkd/alpha_log.py", "hkd/plan.py"} <= set(student)
    assert "hkd/svcca.py" in code_files(["hkd.cluster_languages"])  # issue 14: cluster_type missed it


def test_imports_of_every_form_are_found():
    source = "import hkd.plan\nfrom hkd import vectors as V, fileio\nfrom hkd.kd_loss import x\nimport numpy\n" \
             "def f():\n    from hkd_fairseq.curve import install_from_env\n    from . import sampling\n"
    found = set(imported_modules(source, "hkd.student"))
    assert {"hkd.plan", "hkd.vectors", "hkd.fileio", "hkd.kd_loss", "hkd_fairseq.curve", "hkd.sampling"} <= found
    assert not any(name.startswith("numpy") for name in found)


def test_paths_relative_to_the_working_directory(tmp_path):
    files = ["hkd/train.py", "hkd_fairseq/curve.py"]
    assert workdir_paths(files, ROOT, ROOT) == files  # in the repository
    assert workdir_paths(files, ROOT, tmp_path) == [os.path.relpath(ROOT / f, tmp_path) for f in files]
    (tmp_path / "hkd").symlink_to(ROOT / "hkd")  # a run folder that links the code
    assert workdir_paths(files, ROOT, tmp_path) == ["hkd/train.py", os.path.relpath(ROOT / files[1], tmp_path)]
    assert not any(os.path.isabs(p) for p in workdir_paths(files, ROOT, tmp_path))


def test_import_statements_give_what_parsing_the_whole_file_gives():
    """The fast reading (import statements only) finds exactly the imports of a full parse, for
    every module of the repository."""
    import ast

    from hkd.codefiles import PACKAGES, ROOT, imported_modules, module_file

    def by_full_parse(source, module):
        found = []
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = module.split(".")[: -node.level] if node.level else []
                stem = ".".join([*base, node.module] if node.module else base) if node.level else node.module or ""
                names = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
            else:
                continue
            found += [n for n in names if n.split(".")[0] in PACKAGES and module_file(n, ROOT) is not None]
        return found

    checked = 0
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            module = f"{package}.{path.stem}" if path.stem != "__init__" else package
            source = path.read_text(encoding="utf-8")
            assert sorted(imported_modules(source, module)) == sorted(by_full_parse(source, module)), path
            checked += 1
    assert checked > 30
    multi = "def f():\n    from hkd.plan import (\n        a,\n        b,\n    )\n    import hkd.fileio as x\n"
    assert sorted(imported_modules(multi, "hkd.x")) == ["hkd.fileio", "hkd.plan"]
