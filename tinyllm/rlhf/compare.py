"""Did alignment help? The true win rate of a policy against the SFT model, and what it cost.

Taught in notebook 10 (RLHF).

`compare_with_sft` answers each of ``n`` held-out requests per language (``prompts.rlhf_tasks``,
split ``"eval"``: combinations no stage trained on) twice, greedily: with the policy's adapter
on, and off (the SFT model). The labeler's hidden ``true_score`` decides each pair; the **win
rate** is the share the policy wins, ties counting half (``labeler.win_rate``). Greedy decoding
is what a user of the model gets by default, and it makes the comparison one fixed pair per
request instead of a draw.

Beside it: the mean true score, ``grammar`` (share of grammatical sentences, the checker) and
``constraints`` (share of requested hero, species, object, place and ending met) of both, and
``kl``: the policy's KL from the SFT model, estimated on one reply per request *sampled* at
``temperature`` (the mean summed ``log pi - log pi_sft`` of those replies, in nats).
"""

from __future__ import annotations

from collections.abc import Sequence

from tinyllm.lora import disable_adapter
from tinyllm.model import TinyLLM
from tinyllm.rlhf.labeler import component_means, win_rate
from tinyllm.rlhf.preferences import sample_replies
from tinyllm.rlhf.prompts import rlhf_tasks
from tinyllm.rlhf.rollout import rollout
from tinyllm.tokenizers import BPETokenizer


def compare_with_sft(model: TinyLLM, tokenizer: BPETokenizer, n: int = 200, langs: Sequence[str] = ("en", "zh"),
                     *, max_new_tokens: int = 192, temperature: float = 0.7, seed: int = 0) -> dict[str, dict[str, float]]:
    """``{lang: figures}`` for a LoRA policy (its adapter active) against itself with the adapter
    off. Figures: ``win_rate``, ``true_score`` / ``sft_true_score``, ``grammar`` /
    ``sft_grammar``, ``constraints`` / ``sft_constraints``, ``kl``; plus ``"all"``, the mean
    over the languages (equal ``n`` each)."""
    model.eval()
    report = {}
    for lang in langs:
        tasks = rlhf_tasks(n, lang, "eval")
        policy = sample_replies(model, tokenizer, tasks, 1, temperature=0.0, max_new_tokens=max_new_tokens)
        with disable_adapter(model):
            sft = sample_replies(model, tokenizer, tasks, 1, temperature=0.0, max_new_tokens=max_new_tokens)
        ours, theirs = component_means(tasks, policy.texts), component_means(tasks, sft.texts)
        sampled = rollout(model, tokenizer, tasks, 1, temperature=temperature,
                          max_new_tokens=max_new_tokens, seed=seed)
        report[lang] = {"win_rate": win_rate(policy.scores, sft.scores),
                        "true_score": ours["true_score"], "sft_true_score": theirs["true_score"],
                        "grammar": ours["grammar"], "sft_grammar": theirs["grammar"],
                        "constraints": ours["constraints"], "sft_constraints": theirs["constraints"],
                        "kl": float(sampled.kl().mean())}
    report["all"] = {key: sum(report[lang][key] for lang in langs) / len(langs) for key in report[langs[0]]}
    return report
