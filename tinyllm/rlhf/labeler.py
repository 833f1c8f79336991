"""A simulated human labeler: a hidden true score for a story, and noisy preferences from it.

Taught in notebook 10 (RLHF).

Real RLHF asks people which of two replies they prefer; we cannot measure what they "really"
wanted. TinyTales can: `true_score` writes the human down, so every method's *true* gain can be
measured, and `prefer` turns it into the noisy pairwise labels a reward model learns from.

**The true score** of a reply to a request is a weighted sum of five components, each in [0, 1]
(`WEIGHTS`, summing to 1):

==============  ======  =====================================================================
component       weight  what it rewards
==============  ======  =====================================================================
constraints     0.30    share of the requested hero, species, object, place, ending that the
                        story has (``tinytales.unmet``)
consistent      0.30    the characters stay who they are (the checker), in a story with at
                        least one grammatical sentence
grammar         0.15    share of sentences the TinyTales grammar produces (``check().score``)
no_repeats      0.10    share of distinct sentences (1 - repeated / all), in a story with at
                        least one grammatical sentence
happy           0.15    a happy ending when the request names no ending (when it does,
                        ``constraints`` grades the ending, and any story with a grammatical
                        sentence gets 1 here)
==============  ======  =====================================================================

The first three are what SFT teaches (they are in every training story), and consistency is
where the shipped SFT model is weakest (table below). ``happy`` is a *taste* the SFT data does not
teach: its stories end happily only 64% of the time when no ending is asked (1,282 of the first
2,000 English stories of seed 0). The SFT model does not repeat itself
(``no_repeats`` below); that component is there so that a policy cannot farm the others by
looping.

**Preferences** follow Bradley and Terry (1952): reply *a* is preferred to *b* with probability
``sigmoid((score_a - score_b) / temperature)``. ``temperature -> 0`` is a perfect labeler; a
larger one flips more close calls. `agreement_ceiling` is the expected share of labels that agree
with the true ordering: a reward model scored against such labels cannot be expected to beat it.

**The shipped SFT model, measured** (`component_means`; 40 requests per language and set:
``sft_data.eval_prompts``, which always name the ending, and ``prompts.rlhf_tasks(40, lang,
"eval")``, of which some do not; greedy, and 4 samples per request at temperature 0.7 and 1.0 via
``preferences.sample_replies(seed=0)``; at most 256 new tokens). "spread" is the mean standard
deviation of the true score among the 4 samples of one request; "ceiling" is `agreement_ceiling`
over all pairs of distinct samples (240 per row) at label temperature 0.05 and 0.02:

========================  =====  =====  =====  =====  =====  =====  ======  ======  ===========
set, decoding             cons.  cons.  gram.  no     happy  true   tokens  spread  ceiling
                          met    ist.   mar    rep.          score                  0.05 / 0.02
========================  =====  =====  =====  =====  =====  =====  ======  ======  ===========
en eval_prompts, greedy   0.57   0.10   1.00   1.00   1.00   0.60   107
en eval_prompts, T = 0.7  0.49   0.23   0.97   1.00   1.00   0.61   87      0.12    0.80 / 0.88
en eval_prompts, T = 1    0.46   0.18   0.79   0.97   0.97   0.55   87      0.13    0.82 / 0.91
en rlhf_tasks, greedy     0.68   0.07   1.00   1.00   0.93   0.62   108
en rlhf_tasks, T = 0.7    0.59   0.33   0.96   1.00   0.87   0.65   86      0.15    0.86 / 0.91
en rlhf_tasks, T = 1      0.56   0.38   0.78   1.00   0.81   0.62   88      0.17    0.89 / 0.95
zh eval_prompts, greedy   0.84   0.60   0.97   1.00   1.00   0.83   43
zh eval_prompts, T = 0.7  0.78   0.47   0.92   0.99   0.99   0.76   53      0.17    0.87 / 0.93
zh eval_prompts, T = 1    0.61   0.53   0.68   0.93   0.93   0.68   55      0.21    0.90 / 0.95
zh rlhf_tasks, greedy     0.87   0.72   0.99   1.00   1.00   0.88   44
zh rlhf_tasks, T = 0.7    0.83   0.43   0.93   0.98   0.88   0.75   51      0.18    0.88 / 0.93
zh rlhf_tasks, T = 1      0.69   0.42   0.73   0.96   0.83   0.66   57      0.18    0.91 / 0.97
========================  =====  =====  =====  =====  =====  =====  ======  ======  ===========

Consistency is the weakest component (0.07-0.10 greedy in English). ``happy`` is below 1 on
``rlhf_tasks`` (0.81-0.93, except 1.00 for Chinese greedy), where about a third of the requests
leave the ending open. A reply without a grammatical sentence gets 0 for ``no_repeats`` and
``happy`` too: on ``eval_prompts``, where every request names the ending, that is the only way
``happy`` falls below 1. One reply of the 1,440 (zh rlhf_tasks, T = 1) did not end with
``<|end|>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tinyllm.tinytales import check, split_sentences
from tinyllm.tinytales.tasks import InstructionTask, StorySpec, unmet

#: Component -> weight in `true_score` (they sum to 1, so the score lies in [0, 1]).
WEIGHTS = {"constraints": 0.30, "consistent": 0.30, "grammar": 0.15, "no_repeats": 0.10,
           "happy": 0.15}
# `unmet` words a broken request as "<role>: asked for ..."; these roles are constraints.
_ROLES = {"hero": "hero", "species": "species", "obj": "object", "place": "place",
          "ending": "ending"}


def _spec(task: InstructionTask | StorySpec) -> StorySpec:
    spec = getattr(task, "spec", task)
    if not isinstance(spec, StorySpec):
        raise TypeError(f"expected an InstructionTask or a StorySpec, got {type(task).__name__}; "
                        "pass e.g. tinyllm.sft_data.eval_prompts(n, lang)[i]")
    return spec


def components(task: InstructionTask | StorySpec, reply: str) -> dict[str, float]:
    """Each component of `WEIGHTS` for ``reply`` to ``task`` (its ``spec``), each in [0, 1]."""
    spec = _spec(task)
    report = check(reply, lang=spec.lang)
    asked = [role for role in _ROLES.values() if getattr(spec, role) is not None]
    broken = {_ROLES[p.split(":")[0]] for p in unmet(spec, reply) if p.split(":")[0] in _ROLES}
    sentences = [s.strip() for s in split_sentences(reply)]
    return {
        "constraints": 1 - len(broken) / len(asked) if asked else 1.0,
        # A reply with no grammatical sentence (empty, garbage) names no character, so it has
        # no inconsistency or repetition to find; it must not earn those points for that.
        "consistent": float(report.consistent and report.n_ok > 0),
        "grammar": report.score,
        "no_repeats": len(set(sentences)) / len(sentences) if report.n_ok > 0 else 0.0,
        # When the request names the ending, `constraints` grades it; any story then gets this
        # component in full (but not an empty or ungrammatical reply).
        "happy": float(report.n_ok > 0) if spec.ending is not None else float(report.ending == "happy"),
    }


def true_score(task: InstructionTask | StorySpec, reply: str) -> float:
    """The hidden score of ``reply`` to ``task``: ``sum(WEIGHTS[c] * components[c])``, in [0, 1]."""
    values = components(task, reply)
    return sum(WEIGHTS[c] * values[c] for c in WEIGHTS)


def true_scores(tasks: Sequence[InstructionTask | StorySpec], replies: Sequence[str]) -> torch.Tensor:
    """`true_score` of each (task, reply) pair: ``(n,)`` float32."""
    if len(tasks) != len(replies):
        raise ValueError(f"got {len(tasks)} tasks but {len(replies)} replies; pass one reply per task")
    return torch.tensor([true_score(t, r) for t, r in zip(tasks, replies, strict=True)])


def component_means(tasks: Sequence[InstructionTask | StorySpec], replies: Sequence[str]) -> dict[str, float]:
    """The mean of each component, and of the true score (``"true_score"``), over the replies."""
    rows = [components(t, r) for t, r in zip(tasks, replies, strict=True)]
    means = {c: sum(row[c] for row in rows) / len(rows) for c in WEIGHTS}
    means["true_score"] = sum(WEIGHTS[c] * means[c] for c in WEIGHTS)
    return means


def preference_probability(score_a: torch.Tensor, score_b: torch.Tensor,
                           temperature: float) -> torch.Tensor:
    """Bradley-Terry: P(a preferred to b) = ``sigmoid((score_a - score_b) / temperature)``.

    ``score_a``, ``score_b``: ``(n,)``; returns ``(n,)``. ``temperature = 0``: 1, 0, or 0.5 on a tie.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0: a noiseless labeler), got {temperature}")
    diff = torch.as_tensor(score_a, dtype=torch.float64) - torch.as_tensor(score_b, dtype=torch.float64)
    if temperature == 0:
        return (diff > 0).double() + 0.5 * (diff == 0).double()
    return torch.sigmoid(diff / temperature)


def prefer(score_a: torch.Tensor, score_b: torch.Tensor, temperature: float,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Noisy labels: ``(n,)`` bool, True where the labeler prefers *a*, drawn with probability
    `preference_probability` from ``generator`` (repeatable with a seeded one)."""
    p = preference_probability(score_a, score_b, temperature)
    return torch.rand(p.shape, generator=generator, dtype=torch.float64) < p


def agreement_ceiling(score_a: torch.Tensor, score_b: torch.Tensor, temperature: float) -> float:
    """The expected share of `prefer`'s labels that agree with the true ordering of the pairs.

    A pair agrees when the label picks the truly better reply; an exact tie counts half. For
    one pair that is ``sigmoid(|a - b| / temperature)``; the ceiling is its mean.
    """
    diff = (torch.as_tensor(score_a, dtype=torch.float64)
            - torch.as_tensor(score_b, dtype=torch.float64)).abs()
    return float(preference_probability(diff, torch.zeros_like(diff), temperature).mean())


def win_rate(scores: torch.Tensor, baseline: torch.Tensor) -> float:
    """The share of prompts where ``scores[i] > baseline[i]``, ties counting half; ``(n,)`` each."""
    scores, baseline = torch.as_tensor(scores), torch.as_tensor(baseline)
    if scores.shape != baseline.shape or scores.dim() != 1 or len(scores) == 0:
        raise ValueError(f"need two non-empty (n,) score tensors of one shape, got "
                         f"{tuple(scores.shape)} and {tuple(baseline.shape)}")
    return float(((scores > baseline).double() + 0.5 * (scores == baseline).double()).mean())
