"""realtime/ must run without torch: import it and process audio in a fresh interpreter."""

import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent

SCRIPT = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
import numpy as np
import livesep.realtime, livesep.realtime.engine, livesep.realtime.cli_live
import livesep.realtime.cli_devices, livesep.realtime.jack, livesep.realtime.stream
from helpers.tiny_bundle import make_delay_bundle
bundle = make_delay_bundle(sys.argv[1])
engine = livesep.realtime.Engine(bundle, query="speech")
out = engine.process(np.ones((2000, 1), np.float32))
assert out[-1, 0] == 1.0, out[-1]
from livesep import expert
if expert.available():  # the speech expert live, routed by the ONNX MiniLM
    live = livesep.realtime.Engine(bundle, device_rate=48000, expert=True)
    live.set_query_blocking("my voice")
    live.process(np.ones((4800, 1), np.float32))
    assert live.stats().path == "expert"
mods = [m for m in sys.modules if m == "torch" or m.startswith("torch.")]
print("TORCH" if mods else "NO-TORCH")
"""


def test_realtime_never_imports_torch(tmp_path):
    # helpers.tiny_bundle imports onnx (not torch) to build the graphs.
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("NO-TORCH")
