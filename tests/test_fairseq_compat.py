"""The one fairseq compatibility step (hkd.fairseq_compat): edits, idempotence, the installed result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hkd import fairseq_compat as compat


def pristine_tree(root: Path) -> Path:
    """A fake fairseq package holding, for each edit, the text it expects (as in fairseq 0.12.2)."""
    texts: dict[str, str] = {}
    for edit in compat.EDITS:
        texts[edit.path] = texts.get(edit.path, "import torch\n\n") + "def f():\n" + edit.old + "\n"
    texts["dataclass/configs.py"] = (
        '"""doc"""\nfrom dataclasses import dataclass, field\n\n\n@dataclass\nclass FairseqConfig:\n'
        "    common: CommonConfig = CommonConfig()\n"
        "    quant_noise: QuantNoiseConfig = field(default=QuantNoiseConfig())\n"
    )
    texts["models/no_field_import.py"] = (
        "from __future__ import annotations\nfrom dataclasses import dataclass\n\n\n@dataclass\nclass A:\n"
        "    b: B = B()\n"
    )
    texts["models/plain_class.py"] = "class A:\n    b: B = B()\n"  # not a dataclass: left alone
    for rel, text in texts.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_apply_patches_every_edit_and_is_idempotent(tmp_path):
    root = pristine_tree(tmp_path / "fairseq")
    changed = compat.apply(root)
    assert len(changed) == 7
    configs = (root / "dataclass/configs.py").read_text()
    assert "common: CommonConfig = field(default_factory=CommonConfig)" in configs
    assert "field(default_factory=QuantNoiseConfig)" in configs
    no_import = (root / "models/no_field_import.py").read_text()
    assert no_import.startswith("from __future__ import annotations\nfrom dataclasses import field")
    assert (root / "models/plain_class.py").read_text() == "class A:\n    b: B = B()\n"
    for edit in compat.EDITS:
        assert edit.new in (root / edit.path).read_text()
    snapshot = {p: p.read_text() for p in root.rglob("*.py")}
    assert compat.apply(root) == []  # the second run changes nothing
    assert {p: p.read_text() for p in root.rglob("*.py")} == snapshot
    assert compat.main(["--check", "--root", str(root)]) == 0


def test_check_reports_pending_edits(tmp_path):
    root = pristine_tree(tmp_path / "fairseq")
    assert compat.main(["--check", "--root", str(root)]) == 1


def test_unexpected_source_is_an_error_naming_the_file(tmp_path):
    root = pristine_tree(tmp_path / "fairseq")
    (root / "checkpoint_utils.py").write_text("something else entirely\n")
    with pytest.raises(compat.CompatError, match="checkpoint_utils.py"):
        compat.apply(root)


def test_installed_fairseq_is_patched_and_imports():
    assert compat.main(["--check"]) == 0
    code = (
        "import torch, fairseq\n"
        "from fairseq.dataclass.configs import FairseqConfig\n"
        "from fairseq.dataclass.initialize import hydra_init\n"
        "hydra_init()\n"
        "from fairseq.models.transformer import TransformerConfig, TransformerEncoderBase\n"
        "from fairseq.data import Dictionary\n"
        "d = Dictionary(); [d.add_symbol(str(i)) for i in range(20)]\n"
        "cfg = TransformerConfig(); cfg.encoder.embed_dim = 16; cfg.encoder.ffn_embed_dim = 32\n"
        "cfg.encoder.attention_heads = 2; cfg.encoder.layers = 1\n"
        "enc = TransformerEncoderBase(cfg, d, torch.nn.Embedding(len(d), 16, padding_idx=d.pad())).eval()\n"
        "tokens = torch.tensor([[5, 6, 7, 2], [d.pad(), d.pad(), 8, 2]])\n"
        "with torch.no_grad(): out = enc(tokens, src_lengths=torch.tensor([4, 2]))\n"
        "print(tuple(out['encoder_out'][0].shape))\n"
    )
    # eval mode with padding: the BetterTransformer fast path failed here ("Mask Type should be defined")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("(4, 2, 16)")


def test_checkpoints_with_python_objects_load(tmp_path):
    import torch
    from fairseq import checkpoint_utils

    from omegaconf import OmegaConf

    path = tmp_path / "ck.pt"
    cfg = OmegaConf.create({"model": {"arch": "transformer"}, "task": {"_name": "translation"}})
    state = {"cfg": cfg, "args": None, "model": {}, "extra_state": {"train_iterator": {"epoch": 3}},
             "optimizer_history": [{"criterion_name": "c", "optimizer_name": "o", "num_updates": 9,
                                    "lr_scheduler_state": {"best": 1.0}}]}
    torch.save(state, path)
    with pytest.raises(Exception):  # torch >= 2.6 refuses such objects by default
        torch.load(path)
    loaded = checkpoint_utils.load_checkpoint_to_cpu(str(path))
    assert loaded["cfg"].model.arch == "transformer"
    assert loaded["extra_state"]["train_iterator"]["epoch"] == 3
