"""RLHF: align the SFT model to a (simulated) labeler's preferences. Taught in notebook 10.

One idea per module, in the order the chapter builds them:

- ``labeler``: the hidden true score, Bradley-Terry preference labels, their noise ceiling;
- ``prompts``: the requests RLHF trains and is measured on;
- ``preferences``: (prompt, chosen, rejected) pairs from SFT samples, and their batches;
- ``sequences``: prompt + completion packed into one batch, hidden states and log-probs;
- ``masked``: means, variances and whitening over the completion tokens only;
- ``kl``: per-token estimators of KL(policy || reference);
- ``reward_model``: a scalar head on the SFT backbone, the Bradley-Terry loss;
- ``reward_train``: the ``reward`` trainer (its data, batches of requests, held-out figures);
- ``dpo``, ``ppo``, ``grpo``: the three ways to optimise against the preferences;
- ``rl_config``: a recipe's ``rl`` section (beta, temperature, group size, epochs, reward);
- ``policy``, ``rollout``, ``rewards``: what the policy trainers share (the LoRA policy, its
  sampled replies with policy and reference log-probs, what they are scored by);
- ``dpo_train``, ``ppo_train``, ``grpo_train``: the ``dpo``, ``ppo`` and ``grpo`` trainers;
- ``compare``: each policy against the SFT model on held-out requests (true win rate, KL).
"""
