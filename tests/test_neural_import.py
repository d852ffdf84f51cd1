"""The core, the CLI and rhm_theory.neural import and work with PyTorch unimportable."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Installs a meta-path finder that refuses torch, then exercises the package.
_BLOCKED = textwrap.dedent(
    """
    import importlib.abc, sys

    class _NoTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _NoTorch())
    for mod in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
        del sys.modules[mod]
    """
)


def _run(body: str) -> subprocess.CompletedProcess[str]:
    code = _BLOCKED + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )


def test_core_cli_and_neural_import_without_torch() -> None:
    proc = _run(
        """
        import rhm_theory
        from rhm_theory.cli import build_parser
        import rhm_theory.neural as neural

        parser = build_parser()
        names = set(parser._subparsers._group_actions[0].choices)
        assert {"data2vec", "slc"} <= names, names
        assert not neural.torch_available()
        g = rhm_theory.random_grammar(rhm_theory.RHMParams(v=4, m=2, s=2, L=2), seed=0)
        x = rhm_theory.sample(g, 8, seed=0, latents=True)
        y = neural.synonym_swap(g, x, 1, seed=0)  # numpy-only part still works
        assert (y.level(1) == x.level(1)).all()
        try:
            neural.Data2Vec
        except ImportError as exc:
            assert "rhm-theory[torch]" in str(exc), exc
        else:
            raise AssertionError("Data2Vec resolved without torch")
        assert "torch" not in sys.modules
        print("OK")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("OK")


def test_neural_command_without_torch_fails_cleanly() -> None:
    proc = _run(
        """
        from rhm_theory.cli import main
        status = main(["slc", "--steps", "1"])
        assert status == 2, status
        print("OK")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "rhm-theory[torch]" in proc.stderr
    assert proc.stdout.strip().endswith("OK")
