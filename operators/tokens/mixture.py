"""Mixture files: how much of each partition a training epoch draws.

A mixture gives each partition (a manifest key like "text/kk") a relative weight and a
cap on how many passes over its tokens one epoch may make. The epoch's token budget is
the largest B for which every partition's share `B * w_p` stays within
`max_epochs_p * tokens_p`; partition p then contributes `B * w_p` tokens, which is
`B * w_p / tokens_p` passes over it (a fraction above one means upsampling).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

MIXTURE_VERSION = 1


@dataclass
class Mixture:
    weights: dict[str, float]  # partition key → relative weight; partitions not named get 0
    max_epochs: dict[str, float] = field(default_factory=dict)  # partition key → cap on passes per epoch
    default_max_epochs: float = 1.0
    version: int = MIXTURE_VERSION

    def __post_init__(self):
        bad = {k: w for k, w in self.weights.items() if not (w >= 0 and math.isfinite(w))}
        if bad or not any(self.weights.values()):
            raise ValueError(f"mixture weights must be finite, >= 0 and not all 0: {self.weights}")
        if any(e <= 0 for e in [*self.max_epochs.values(), self.default_max_epochs]):
            raise ValueError("mixture max_epochs must be > 0")

    @classmethod
    def natural(cls, partitions: dict[str, int]) -> "Mixture":
        """Every token once per epoch: weights proportional to the partitions' sizes."""
        return cls(weights={k: float(n) for k, n in partitions.items() if n}, default_max_epochs=1.0)

    def cap(self, key: str) -> float:
        return float(self.max_epochs.get(key, self.default_max_epochs))

    def budget(self, partitions: dict[str, int]) -> dict[str, int]:
        """Tokens per partition that one epoch draws (0 for unweighted partitions)."""
        unknown = sorted(set(self.weights) - set(partitions))
        if unknown:
            raise ValueError(f"mixture names partitions the manifest does not have: {unknown} "
                             f"(have: {sorted(partitions)})")
        weighted = {k: w for k, w in self.weights.items() if w > 0 and partitions[k] > 0}
        if not weighted:
            raise ValueError("no weighted partition has any tokens")
        total_w = sum(weighted.values())
        budget = min(self.cap(k) * partitions[k] * total_w / w for k, w in weighted.items())
        # min(...) is what keeps every partition within its cap; floor keeps rounding inside it too
        return {k: (min(int(budget * weighted[k] / total_w + 1e-6), int(self.cap(k) * partitions[k]))
                    if k in weighted else 0) for k in sorted(partitions)}

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "weights": self.weights, "max_epochs": self.max_epochs,
                           "default_max_epochs": self.default_max_epochs}, indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "Mixture":
        if data.get("version", MIXTURE_VERSION) != MIXTURE_VERSION:
            raise ValueError(f"unsupported mixture version {data.get('version')!r}")
        return cls(weights={str(k): float(v) for k, v in data["weights"].items()},
                   max_epochs={str(k): float(v) for k, v in (data.get("max_epochs") or {}).items()},
                   default_max_epochs=float(data.get("default_max_epochs", 1.0)))

    @classmethod
    def from_text(cls, text: str) -> "Mixture":
        """JSON or YAML (JSON is YAML, so one parser reads both)."""
        import yaml

        return cls.from_dict(yaml.safe_load(text))


def parse_weights(args: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """CLI form `text/kk=0.5 news/ru=0.3:2` → weights and caps (`:N` = at most N passes)."""
    weights, caps = {}, {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep:
            raise ValueError(f"{arg!r}: expected PARTITION=WEIGHT[:MAX_EPOCHS]")
        weight, _, cap = value.partition(":")
        weights[key] = float(weight)
        if cap:
            caps[key] = float(cap)
    return weights, caps


def budget_table(mixture: Mixture, partitions: dict[str, int]) -> list[dict]:
    """One row per partition: its tokens, weight, cap, epoch budget and passes."""
    budget = mixture.budget(partitions)
    total_w = sum(w for k, w in mixture.weights.items() if partitions.get(k)) or 1.0
    return [{"partition": k, "tokens": n, "weight": mixture.weights.get(k, 0.0) / total_w,
             "max_epochs": mixture.cap(k), "budget": budget[k], "passes": budget[k] / n if n else 0.0}
            for k, n in sorted(partitions.items())]
