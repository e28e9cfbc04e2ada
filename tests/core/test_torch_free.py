"""The runtime needs no torch: `livesep separate` and `livesep live` with a new query.

A new query is one the default bundle has not cached, so its text is encoded: by the
packaged ONNX MiniLM, never by sentence-transformers. torch is blocked in the child
process (as on a base install without it) and must not even be attempted.
"""

from pathlib import Path

import soundfile as sf
from helpers.no_torch import run_without_torch

from livesep.bundle import default_bundle_path, load_bundle

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "speech_and_drums.wav"
NEW_QUERY = "a cat meowing on a tin roof"  # not cached in the default bundle


def test_the_query_is_new_to_the_bundle() -> None:
    assert NEW_QUERY not in load_bundle(default_bundle_path()).embeddings


def test_separate_with_a_new_query_never_imports_torch(tmp_path: Path) -> None:
    out = tmp_path / "cat.wav"
    code = (
        "from livesep import cli\n"
        f"rc = cli.main(['separate', {str(DEMO)!r}, '-q', {NEW_QUERY!r}, '-o', {str(out)!r}])\n"
        "assert rc == 0, rc\n"
    )
    proc, loaded = run_without_torch(code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert loaded == []
    assert sf.info(str(out)).frames == sf.info(str(DEMO)).frames
    assert f'query "{NEW_QUERY}" reads as' in proc.stdout + proc.stderr


def test_live_from_a_file_with_a_new_query_never_imports_torch(tmp_path: Path) -> None:
    out = tmp_path / "live.wav"
    code = (
        "from livesep import cli\n"
        f"rc = cli.main(['live', '--query', {NEW_QUERY!r}, '--input-file', {str(DEMO)!r},"
        f" '--output-file', {str(out)!r}])\n"
        "assert rc == 0, rc\n"
    )
    proc, loaded = run_without_torch(code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert loaded == []
    assert sf.info(str(out)).frames > 0
