"""Text queries per class: training phrasings, and different ones kept for validation.

Training captions are each training phrase of a class in each training template
("rain", "isolate rain", "rain in the background", ...). Validation captions use the
class's validation phrases in other templates, and never equal a training caption of any
class, so validation measures whether the model follows descriptions it has not seen.
"""

from __future__ import annotations

from livesep.training.corpus_classes import ClassSpec

TRAIN_TEMPLATES = (
    "{p}",
    "isolate {p}",
    "{p} in the background",
    "the sound of {p}",
    "extract {p}",
    "a recording of {p}",
)
VAL_TEMPLATES = ("{p}", "keep only {p}", "{p} somewhere in the mix")


def _fill(templates: tuple[str, ...], phrases: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for phrase in phrases:
        for template in templates:
            # "the sound of the sound of rain" reads badly: keep such phrases as they are.
            if template.startswith(("the sound of", "a recording of")) and phrase.startswith(
                "the sound of"
            ):
                continue
            caption = template.format(p=phrase)
            if caption not in out:
                out.append(caption)
    return out


def train_captions(spec: ClassSpec) -> list[str]:
    """Captions a training clip of `spec` may be queried with."""
    return _fill(TRAIN_TEMPLATES, spec.phrases)


def val_captions(spec: ClassSpec, all_train: set[str] | None = None) -> list[str]:
    """Captions for validation / zero-shot clips of `spec`, none of them a training caption.

    Args:
        spec: the class.
        all_train: training captions of every class (those are removed).
    """
    banned = set(all_train or ()) | set(train_captions(spec))
    return [c for c in _fill(VAL_TEMPLATES, spec.val_phrases) if c not in banned]
