"""Write resources/sounds/alert.wav: the notice chime (two rising tones), made here.

The sound is the project's own work (generated, not recorded), so it ships under the
project's licence. Run once; the WAV is committed.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 22_050
TONES_HZ = (880.0, 1318.5)  # A5 then E6: clear over engine noise, not shrill
TONE_S = 0.22
TARGET = Path(__file__).resolve().parents[1] / "resources" / "sounds" / "alert.wav"


def tone(frequency: float) -> np.ndarray:
    t = np.arange(int(RATE * TONE_S)) / RATE
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-t * 6.0)
    harmonics = np.sin(2 * np.pi * frequency * t) + 0.3 * np.sin(4 * np.pi * frequency * t)
    return envelope * harmonics


def main() -> None:
    pause = np.zeros(int(RATE * 0.04))
    signal = np.concatenate([tone(TONES_HZ[0]), pause, tone(TONES_HZ[1]), pause])
    signal = np.concatenate([signal, signal])
    samples = (signal / np.abs(signal).max() * 0.7 * 32767).astype("<i2")
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(TARGET), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    print(f"wrote {TARGET} ({len(samples) / RATE:.2f} s)")


if __name__ == "__main__":
    main()
