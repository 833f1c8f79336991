"""Benchmark: what one step of each RLHF method costs on the shipped SFT model.

Run:  python tests/bench_rlhf.py [--threads 2] [--pairs 16] [--prompts 32] [--group 4] [--lang en]

On ``load_pretrained("sft")`` and requests from ``rlhf.prompts.rlhf_tasks``, it times, each
with wall and CPU seconds (a shared machine's wall time also counts waiting for a core):

- sampling replies (``preferences.sample_replies``, temperature 1, at most 256 new tokens);
- a reward-model step on ``--pairs`` pairs (full backbone, and a LoRA backbone r=8 all-linear);
- a DPO step on ``--pairs`` pairs through LoRA (reference log-probs precomputed once);
- a PPO iteration on ``--prompts`` prompts: rollout, scoring (old, reference, values, reward
  model), four epochs;
- a GRPO iteration on ``--prompts / --group`` prompts times ``--group`` samples.

Not collected by pytest (timings are measured by scripts, never by timed tests).
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable

import torch

from tinyllm.determinism import NOTEBOOK_THREADS
from tinyllm.lora import add_lora, disable_adapter
from tinyllm.rlhf.dpo import dpo_batch_loss, reference_logprobs
from tinyllm.rlhf.grpo import group_advantages, grpo_loss
from tinyllm.rlhf.ppo import (
    ValueHead,
    gae,
    per_token_rewards,
    policy_loss,
    value_loss,
    whiten_advantages,
)
from tinyllm.rlhf.preferences import collate, label_pairs, sample_replies
from tinyllm.rlhf.prompts import rlhf_tasks
from tinyllm.rlhf.reward_model import RewardModel, bradley_terry_loss
from tinyllm.rlhf.sequences import completion_hidden, completion_logprobs, pack, token_logprobs
from tinyllm.shipped import load_pretrained


def timed(label: str, work: Callable[[], object]) -> object:
    wall, cpu = time.perf_counter(), time.process_time()
    out = work()
    print(f"{label:58s} {time.perf_counter() - wall:6.2f} s wall {time.process_time() - cpu:6.2f} s CPU")
    return out


def lora_copy(model):
    model = copy.deepcopy(model)
    add_lora(model, r=8, alpha=16, targets="all-linear")
    return model.train()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=NOTEBOOK_THREADS)
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--lang", default="en")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sft, tok = load_pretrained("sft")

    # Preference pairs from k = 4 samples of enough requests.
    tasks = rlhf_tasks(max(1, args.pairs // 4), args.lang, "train")
    samples = timed(f"sample 4 replies to {len(tasks)} requests",
                    lambda: sample_replies(sft, tok, tasks, 4, seed=0))
    pairs = label_pairs(samples, 4, label_temperature=0.05)[:args.pairs]
    chosen, rejected = collate(pairs)
    print(f"{len(pairs)} pairs, widths {chosen.ids.shape[1]} / {rejected.ids.shape[1]} tokens")

    def step(params, loss_fn):
        optimizer = torch.optim.AdamW([p for p in params if p.requires_grad], lr=1e-5)
        def run():
            loss = loss_fn()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return run

    reward_model = RewardModel(copy.deepcopy(sft)).train()
    run = step(reward_model.parameters(), lambda: bradley_terry_loss(
        reward_model.score_packed(chosen), reward_model.score_packed(rejected)))
    for _ in range(2):
        timed(f"reward model step, full backbone, {len(pairs)} pairs", run)
    lora_rm = RewardModel(lora_copy(sft))
    run = step(lora_rm.parameters(), lambda: bradley_terry_loss(
        lora_rm.score_packed(chosen), lora_rm.score_packed(rejected)))
    for _ in range(2):
        timed(f"reward model step, LoRA backbone, {len(pairs)} pairs", run)

    policy = lora_copy(sft)
    ref = timed("DPO reference log-probs (once per pair)",
                lambda: (reference_logprobs(policy, chosen), reference_logprobs(policy, rejected)))
    run = step(policy.parameters(), lambda: dpo_batch_loss(policy, chosen, rejected, ref=ref)[0])
    for _ in range(2):
        timed(f"DPO step, {len(pairs)} pairs", run)

    # PPO: one iteration.
    policy, value_head = lora_copy(sft), ValueHead(sft.config.d_model)
    ppo_tasks = rlhf_tasks(args.prompts, args.lang, "train")
    rollout = timed(f"PPO rollout, {args.prompts} prompts",
                    lambda: sample_replies(policy, tok, ppo_tasks, 1, seed=1))
    batch = pack(rollout.prompt_ids, rollout.completion_ids)
    mask = batch.completion_mask

    @torch.no_grad()
    def score():
        old = completion_logprobs(policy, batch)
        with disable_adapter(policy):
            ref = completion_logprobs(policy, batch)
        return old, ref, value_head(completion_hidden(policy, batch)) * mask, reward_model.score_packed(batch)

    old, ref, old_values, scores = timed("PPO old / reference log-probs, values, reward model", score)
    rewards, _ = per_token_rewards(old, ref, mask, scores, torch.tensor(rollout.ended), 0.05, 1.0)
    advantages, returns = gae(rewards, old_values, mask)
    advantages = whiten_advantages(advantages, mask)

    def ppo_loss():
        hidden = completion_hidden(policy, batch)
        logp = token_logprobs(policy.lm_head(hidden), batch.completions)
        pg, _ = policy_loss(logp, old, advantages, mask)
        vf, _ = value_loss(value_head(hidden), old_values, returns, mask)
        return pg + 0.1 * vf

    run = step([*policy.parameters(), *value_head.parameters()], ppo_loss)
    timed("PPO 4 epochs on the rollout", lambda: [run() for _ in range(4)])

    # GRPO: one iteration.
    n = max(1, args.prompts // args.group)
    grpo_tasks = rlhf_tasks(n, args.lang, "train")
    group = timed(f"GRPO rollout, {n} prompts x {args.group}",
                  lambda: sample_replies(policy, tok, grpo_tasks, args.group, seed=2))
    batch = pack(group.prompt_ids, group.completion_ids)
    advantages = group_advantages(group.scores, args.group)
    with torch.no_grad():
        old = completion_logprobs(policy, batch)
        with disable_adapter(policy):
            ref = completion_logprobs(policy, batch)
    run = step(policy.parameters(), lambda: grpo_loss(completion_logprobs(policy, batch), old, advantages,
                                                      batch.completion_mask, beta=0.04, ref_logprobs=ref)[0])
    timed("GRPO step", run)
    flat = int((group.scores.view(-1, args.group).std(1) == 0).sum())
    print(f"GRPO groups whose replies all scored the same (no signal): {flat} of {n}")


if __name__ == "__main__":
    main()
