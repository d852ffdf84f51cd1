"""
Train a network on a stream of fresh RHM strings
================================================

:class:`rhm_theory.torch.RHMStream` is a PyTorch ``IterableDataset``: batch ``b`` holds
strings ``b*B .. b*B+B-1`` of the library's numba sampler for a data seed, drawn when it is
needed (memory of one batch per worker, whatever the number of strings). With
``DataLoader(stream, batch_size=None, num_workers=2)`` each worker draws every other batch
and the loader takes them in turn, so the network sees the same strings with 0, 1 or 2
workers. Every step is fresh data: the online regime.

The grammar is the one the community's ``sample_rules`` draws for ``seed_rules=0``
(the registry family ``community``), the task the community's: the class (root symbol) of
a string. A small MLP on one-hot tokens climbs above chance (``1/n_c``) within 200 steps of
128 fresh strings; held-out strings come from further along the same stream (``start``).
"""

import torch
from torch.utils.data import DataLoader

from rhm_theory.model import RHMParams
from rhm_theory.model.spec import GrammarSpec
from rhm_theory.torch import RHMStream

torch.manual_seed(0)
params = RHMParams(v=8, m=4, s=2, L=3, n_c=8)
grammar = GrammarSpec(params, "community", seed=0).build()  # = sample_rules(8, 8, 4, 2, 3, 0)
steps, batch = 200, 128
train = RHMStream(grammar, seed=1, batch_size=batch, num_strings=steps * batch)
held_out = next(iter(RHMStream(grammar, seed=1, batch_size=4096, start=steps * batch)))

T, v = params.string_length, params.v
model = torch.nn.Sequential(
    torch.nn.Flatten(), torch.nn.Linear(T * v, 256), torch.nn.ReLU(),
    torch.nn.Linear(256, params.n_c))
opt = torch.optim.Adam(model.parameters(), lr=3e-3)


def one_hot(tokens):
    return torch.nn.functional.one_hot(tokens, v).float()


def accuracy(tokens, labels):
    with torch.no_grad():
        return (model(one_hot(tokens)).argmax(1) == labels).float().mean().item()


for step, (tokens, labels) in enumerate(DataLoader(train, batch_size=None, num_workers=2)):
    loss = torch.nn.functional.cross_entropy(model(one_hot(tokens)), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0 or step == steps - 1:
        print(f"step {step:3d}  strings seen {(step + 1) * batch:6d}  loss {loss.item():.3f}  "
              f"held-out accuracy {accuracy(*held_out):.3f}")

# %%
# The same strings whatever the workers: the first batch with 0 workers is the first with 2.
first0 = next(iter(DataLoader(train, batch_size=None, num_workers=0)))[0]
first2 = next(iter(DataLoader(train, batch_size=None, num_workers=2)))[0]
print("first batch identical with 0 and 2 workers:", torch.equal(first0, first2))
