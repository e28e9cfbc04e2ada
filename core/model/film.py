"""FiLM conditioning as AudioSep does it: additive per-channel biases from the query embedding.

Every block that declares `has_film = True` receives a `beta1` bias before its first
BatchNorm'd activation and a `beta2` before its second (widths = those BatchNorms' channel
counts). One `Linear(condition_size, C)` per (block, beta). The layers are registered under
their module path joined with `->`, as in the released checkpoint:
`film.decoder_block3->conv_block2->beta1.weight` [512, 512].
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["FiLM", "FilmMeta", "film_meta", "init_layer"]

# Nested {child name: FilmMeta | width}; leaves "beta1"/"beta2" are channel counts.
FilmMeta = dict[str, Any]
FILM_SEPARATOR = "->"


def init_layer(layer: nn.Module) -> None:
    """AudioSep's initialisation: Xavier-uniform weight, zero bias."""
    weight = getattr(layer, "weight", None)
    if isinstance(weight, torch.Tensor):
        nn.init.xavier_uniform_(weight)
    bias = getattr(layer, "bias", None)
    if isinstance(bias, torch.Tensor):
        nn.init.zeros_(bias)


def film_meta(module: nn.Module) -> FilmMeta:
    """The FiLM widths a module tree needs, in registration order.

    A module with `has_film = True` gets `beta1` = `bn1.num_features` and `beta2` =
    `bn2.num_features`; children follow. Subtrees without FiLM are left out.
    """
    meta: FilmMeta = {}
    if getattr(module, "has_film", False):
        meta["beta1"] = module.get_submodule("bn1").num_features
        meta["beta2"] = module.get_submodule("bn2").num_features
    for name, child in module.named_children():
        child_meta = film_meta(child)
        if child_meta:
            meta[name] = child_meta
    return meta


class FiLM(nn.Module):
    """Maps a query embedding to the nested dict of biases a `film_meta` tree describes.

    Args:
        meta: widths per block, as `film_meta(base)` returns.
        condition_size: embedding dimension D.
    """

    def __init__(self, meta: FilmMeta, condition_size: int) -> None:
        super().__init__()
        self.meta = meta
        self.condition_size = condition_size
        for path, width in _leaves(meta, ()):
            layer = nn.Linear(condition_size, width)
            init_layer(layer)
            self.add_module(FILM_SEPARATOR.join(path), layer)

    def forward(self, condition: torch.Tensor) -> FilmMeta:
        """Args: condition [B, D]. Returns: the `meta` tree with each width replaced by
        its bias [B, C, 1, 1]."""
        return self._biases(condition, self.meta, ())

    def _biases(self, condition: torch.Tensor, meta: FilmMeta, path: tuple[str, ...]) -> FilmMeta:
        out: FilmMeta = {}
        for name, value in meta.items():
            if isinstance(value, dict):
                out[name] = self._biases(condition, value, (*path, name))
            else:
                layer = self._modules[FILM_SEPARATOR.join((*path, name))]
                assert layer is not None
                out[name] = layer(condition)[:, :, None, None]  # [B, C, 1, 1]
        return out


def _leaves(meta: FilmMeta, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], int]]:
    """Depth-first (path, width) pairs of a meta tree, in its order."""
    leaves: list[tuple[tuple[str, ...], int]] = []
    for name, value in meta.items():
        if isinstance(value, dict):
            leaves += _leaves(value, (*path, name))
        else:
            leaves.append(((*path, name), int(value)))
    return leaves
