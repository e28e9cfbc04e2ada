"""The output mixer: dry/wet, bypass and gain applied to a path's target and its dry signal.

out = gain * ((1 - bypass) * (wet * processed + (1 - wet) * dry) + bypass * dry), with
processed = target + mixture * dry (the request's own dry weight: 1 for "remove X").
`Settings` is written by the worker only (between hops, from control messages); each
path's `Mixer` ramps its coefficients over a hop from the last hop's values, so a control
change never steps. Preallocated; `mix` runs on the audio path and never allocates.
"""

from __future__ import annotations

import numpy as np


class Settings:
    """The mixer's controls, shared by every path (worker-written)."""

    def __init__(self) -> None:
        self.wet = 1.0  # 1 = processed only, 0 = dry only
        self.gain_db = 0.0  # dB
        self.bypass = False

    def coefficients(self) -> tuple[float, float, float]:
        """(target coefficient, dry coefficient, linear gain) of the current settings."""
        by = 1.0 if self.bypass else 0.0
        c_target = (1.0 - by) * self.wet
        c_dry = (1.0 - by) * (1.0 - self.wet) + by
        return c_target, c_dry, 10.0 ** (self.gain_db / 20.0)


class Mixer:
    """Mixes one path's hop: out [hop, C] = coef_t * target + coef_d * dry.

    Args:
        settings: the shared controls.
        hop: samples per hop at the path's rate.
        channels: C.
    """

    def __init__(self, settings: Settings, hop: int, channels: int) -> None:
        self.settings = settings
        self.ramp = ((np.arange(hop, dtype=np.float32) + 1) / hop)[:, None]  # [hop, 1] -> 1
        self._coef = np.zeros((hop, 1), np.float32)  # [hop, 1] scratch
        self._coef_d = np.zeros((hop, 1), np.float32)  # [hop, 1] scratch
        self._dry = np.zeros((hop, channels), np.float32)  # [hop, C] scratch
        self.applied = settings.coefficients()  # at the end of the last hop

    def reset(self) -> None:
        self.applied = self.settings.coefficients()

    def mix(
        self, target: np.ndarray, mixture: np.ndarray, dry: np.ndarray, out: np.ndarray
    ) -> None:
        """out [hop, C] = the mixed hop.

        Args:
            target: [hop, C] or [hop, 1] the request's estimate (kept - removed).
            mixture: [hop, 1] the request's dry weight.
            dry: [hop, C] the input delayed like the target.
            out: [hop, C].
        """
        c_t, c_d, g = self.settings.coefficients()
        p_t, p_d, p_g = self.applied
        ramp = self.ramp  # ramps to 1 at the hop's last sample
        np.multiply(ramp, (c_t * g - p_t * p_g), out=self._coef)
        self._coef += p_t * p_g  # [hop, 1] target coefficient
        np.multiply(target, self._coef, out=out)  # [hop, C]
        np.multiply(ramp, (c_d * g - p_d * p_g), out=self._coef_d)
        self._coef_d += p_d * p_g  # [hop, 1] dry coefficient ...
        np.multiply(self._coef, mixture, out=self._coef)
        self._coef_d += self._coef  # ... plus the request's own mixture term
        np.multiply(dry, self._coef_d, out=self._dry)
        out += self._dry
        self.applied = (c_t, c_d, g)
