"""Did alignment help? The true win rate of a policy against the SFT model, and what it cost.

Taught in notebook 10 (RLHF).

`compare_with_sft` answers each of ``n`` held-out requests per language (``prompts.rlhf_tasks``,
split ``"eval"``: combinations no stage trained on) with the policy's adapter on, and off (the
SFT model). The labeler's hidden ``true_score`` decides each pair; the **win rate** is the share
the policy wins, ties counting half (``labeler.win_rate``). Two decodings: *sampled* at the
temperature the policy was trained at (RLHF changes a distribution; this is what it was
optimised to improve), and *greedy* (what a user gets by default; one fixed reply per request,
so an unchanged greedy reply is a tie).

Beside it: the mean true score, ``grammar`` (share of grammatical sentences, the checker) and
``constraints`` (share of requested hero, species, object, place and ending met) of both, and
``kl``: the policy's KL from the SFT model, estimated on its sampled replies (the mean summed
``log pi - log pi_sft``, in nats).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tinyllm.lora import disable_adapter
from tinyllm.model import TinyLLM
from tinyllm.rlhf.labeler import component_means, win_rate
from tinyllm.rlhf.preferences import Samples, sample_replies
from tinyllm.rlhf.prompts import rlhf_tasks
from tinyllm.rlhf.reward_model import RewardModel
from tinyllm.rlhf.rollout import rollout
from tinyllm.rlhf.sequences import pack
from tinyllm.tokenizers import BPETokenizer


@torch.no_grad()
def _mean_reward(reward_model: RewardModel, samples: Samples, batch_size: int = 64) -> float:
    """The reward model's mean (normalised) score of the replies in ``samples``."""
    reward_model.eval()
    scores = [reward_model.score_packed(pack(samples.prompt_ids[i:i + batch_size],
                                             samples.completion_ids[i:i + batch_size]))
              for i in range(0, len(samples.texts), batch_size)]
    return float(torch.cat(scores).mean())


def compare_with_sft(model: TinyLLM, tokenizer: BPETokenizer, n: int = 200, langs: Sequence[str] = ("en", "zh"),
                     *, max_new_tokens: int = 192, temperature: float = 0.7, seed: int = 0,
                     reward_model: RewardModel | None = None) -> dict[str, dict[str, float]]:
    """``{lang: figures}`` for a LoRA policy (its adapter active) against itself with the adapter
    off, plus ``"all"``, the mean over the languages (equal ``n`` each).

    For each decoding, ``"sampled"`` (one reply per request at ``temperature``, the policy and
    the SFT model drawing with the same seed) and ``"greedy"``: ``<decoding>_win_rate``,
    ``<decoding>_true_score`` / ``<decoding>_sft_true_score``, ``..._grammar`` /
    ``..._sft_grammar``, ``..._constraints`` / ``..._sft_constraints``. And ``kl``: the mean
    summed ``log pi - log pi_sft`` of the policy's sampled replies, at ``temperature``. With a
    ``reward_model``: ``rm_score`` / ``sft_rm_score``, its mean score of the sampled replies.
    """
    model.eval()
    report = {}
    for lang in langs:
        tasks = rlhf_tasks(n, lang, "eval")
        sampled = rollout(model, tokenizer, tasks, 1, temperature=temperature,
                          max_new_tokens=max_new_tokens, seed=seed)
        figures = {}
        for decoding, temp in (("sampled", temperature), ("greedy", 0.0)):
            policy = sample_replies(model, tokenizer, tasks, 1, temperature=temp,
                                    max_new_tokens=max_new_tokens, seed=seed)
            with disable_adapter(model):
                sft = sample_replies(model, tokenizer, tasks, 1, temperature=temp,
                                     max_new_tokens=max_new_tokens, seed=seed)
            ours, theirs = component_means(tasks, policy.texts), component_means(tasks, sft.texts)
            if reward_model is not None and decoding == "sampled":
                figures |= {"rm_score": _mean_reward(reward_model, policy),
                            "sft_rm_score": _mean_reward(reward_model, sft)}
            figures |= {f"{decoding}_win_rate": win_rate(policy.scores, sft.scores)}
            for key in ("true_score", "grammar", "constraints"):
                figures |= {f"{decoding}_{key}": ours[key], f"{decoding}_sft_{key}": theirs[key]}
        report[lang] = {**figures, "kl": float(sampled.kl().mean())}
    report["all"] = {key: sum(report[lang][key] for lang in langs) / len(langs) for key in report[langs[0]]}
    return report


def compare_shipped(names: Sequence[str] = ("ppo", "dpo", "grpo"), n: int = 200) -> dict[str, dict]:
    """`compare_with_sft` of each shipped policy adapter (``shipped.ADAPTERS``), with the shipped
    reward model's scores, and ``cpu_seconds``: its training run's, from its shipped log
    (``data/rlhf/<name>.json``). What ``data/rlhf/results.json`` holds (notebook 10's table)."""
    import json

    from tinyllm.paths import data_file
    from tinyllm.shipped import load_pretrained, load_shipped_adapter, load_shipped_reward_model

    reward_model = load_shipped_reward_model()
    results: dict[str, dict] = {}
    for name in names:
        model, tokenizer = load_pretrained("sft")
        load_shipped_adapter(model, name)
        results[name] = compare_with_sft(model, tokenizer, n, reward_model=reward_model)
        log = json.loads(data_file(f"rlhf/{name}.json").read_text(encoding="utf-8"))["log"]
        results[name]["cpu_seconds"] = log[-1]["cpu_seconds"]
    return results


if __name__ == "__main__":  # python -m tinyllm.rlhf.compare [OUT.json]: notebook 10's table
    import argparse
    import json

    from tinyllm.paths import data_dir

    parser = argparse.ArgumentParser(prog="python -m tinyllm.rlhf.compare",
                                     description="Measure the shipped PPO, DPO and GRPO policies against "
                                                 "the SFT model (notebook 10's table; a few CPU-minutes).")
    parser.add_argument("out", nargs="?", default=str(data_dir() / "rlhf" / "results.json"),
                        help="where to write the JSON table (default: the shipped data/rlhf/results.json)")
    out = parser.parse_args().out
    table = compare_shipped()
    with open(out, "w", encoding="utf-8") as f:
        json.dump(table, f, indent=1)
        f.write("\n")
    print(f"written to {out}")
