"""A small β-VAE in JAX (equinox + optax) whose sampled latents ``bayes_gmm_mi`` interprets.

The model is deliberately small: an MLP encoder q(z | x) = N(μ(x), diag σ²(x))
and an MLP decoder p(x | z), trained by minimising the negative β-ELBO

    L(x) = E_q[-log p(x | z)] + β · KL(q(z | x) || N(0, I)),

with one reparameterised sample per example, optax Adam and a jitted
(``lax.scan``-ed) train step. Every source of randomness is an explicit
``jax.random`` key, so a run is a pure function of its seed.

Why equinox (and not flax)
--------------------------
An equinox model *is* a pytree of arrays (an ``eqx.Module`` is a frozen
dataclass), so parameters need no separate container, there is no
``init``/``apply`` split and no mutable state collection to thread through:
the model can be passed straight to ``jax.grad``, ``jax.vmap`` and
``optax``. That is the same functional, NamedTuple/pytree style the rest of
``bayes_gmm_mi`` uses, and it keeps this file short. Flax (linen or nnx)
would work equally well but adds its own module/state system that this
small model does not need.

Why sampled latents
-------------------
See ``models/README.md``: the mutual information between a continuous
factor and the posterior *mean* μ(x), a deterministic and generically
invertible function of x, is infinite or ill-posed; the sampled latent
z ~ q(z | x) includes the encoder noise that defines the channel, and its MI
with the data is what the model transmits (bounded by the KL rate term).
:func:`encode_dataset` therefore returns sampled latents alongside the
posterior means and log-variances.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = [
    "LIKELIHOODS",
    "MLP",
    "BetaVAE",
    "TrainHistory",
    "elbo_terms",
    "encode",
    "encode_dataset",
    "fit",
    "loss_fn",
    "make_vae",
    "stderr_progress",
]

LIKELIHOODS = ("bernoulli", "gaussian")
Likelihood = Literal["bernoulli", "gaussian"]

# Encoder log-variances are clipped to this range: keeps exp(logvar) finite
# early in training without restricting any useful posterior width.
_LOGVAR_MIN, _LOGVAR_MAX = -12.0, 8.0
_DTYPE = jnp.float32


class MLP(eqx.Module):
    """Linear layers of any widths with ReLU between them, none on the output.

    (``eqx.nn.MLP`` has one width for all hidden layers; this allows a
    tapering 1024 -> 256 -> 128 shape.)

    Attributes
    ----------
    layers : tuple of eqx.nn.Linear
    """

    layers: tuple[eqx.nn.Linear, ...]

    def __call__(self, x: jax.Array) -> jax.Array:
        """Apply the layers to one input vector."""
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        return self.layers[-1](x)


def _mlp(key: jax.Array, n_in: int, hidden: Sequence[int], n_out: int) -> MLP:
    widths = (n_in, *hidden, n_out)
    keys = jax.random.split(key, len(widths) - 1)
    layers = tuple(
        eqx.nn.Linear(a, b, key=k, dtype=_DTYPE) for a, b, k in zip(widths[:-1], widths[1:], keys)
    )
    return MLP(layers)


class BetaVAE(eqx.Module):
    """A β-VAE: Gaussian MLP encoder and MLP decoder (a pytree of arrays).

    Build one with :func:`make_vae`.

    Attributes
    ----------
    encoder : MLP
        Maps a flattened input to ``2 * latent_dim`` numbers: the posterior
        mean and log-variance.
    decoder : MLP
        Maps a latent to the flattened likelihood parameters: Bernoulli logits
        or Gaussian means.
    input_shape : tuple of int
        Shape of one input (e.g. ``(32, 32)`` or ``(16,)``); static.
    latent_dim : int
        Number of latent dimensions; static.
    likelihood : {"bernoulli", "gaussian"}
        Observation model p(x | z); static.
    obs_sigma : float
        Fixed standard deviation of the Gaussian likelihood (unused for
        Bernoulli); static. Fixing it (rather than learning it) keeps β
        meaningful: a learned σ would shrink towards the data's noise level,
        scaling the reconstruction term and so changing the effective β with
        the data set.
    """

    encoder: MLP
    decoder: MLP
    input_shape: tuple[int, ...] = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)
    likelihood: str = eqx.field(static=True)
    obs_sigma: float = eqx.field(static=True)

    @property
    def input_size(self) -> int:
        """Number of scalars in one input."""
        return math.prod(self.input_shape)

    def encode_one(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Posterior mean and log-variance for a single input.

        Parameters
        ----------
        x : jax.Array
            One input, shape ``input_shape``.

        Returns
        -------
        mean, logvar : jax.Array
            Each of shape ``(latent_dim,)``.
        """
        h = self.encoder(jnp.reshape(x, (-1,)).astype(_DTYPE))
        mean, logvar = h[: self.latent_dim], h[self.latent_dim:]
        return mean, jnp.clip(logvar, _LOGVAR_MIN, _LOGVAR_MAX)

    def decode_one(self, z: jax.Array) -> jax.Array:
        """Likelihood parameters (logits or means) for a single latent.

        Parameters
        ----------
        z : jax.Array
            One latent, shape ``(latent_dim,)``.

        Returns
        -------
        jax.Array
            Shape ``input_shape``.
        """
        return jnp.reshape(self.decoder(z), self.input_shape)


def make_vae(
    key: jax.Array,
    input_shape: Sequence[int],
    *,
    latent_dim: int,
    hidden: Sequence[int] = (256, 128),
    likelihood: Likelihood = "bernoulli",
    obs_sigma: float = 0.1,
) -> BetaVAE:
    """Initialise a :class:`BetaVAE`.

    Parameters
    ----------
    key : jax.Array
        PRNG key for the weights.
    input_shape : sequence of int
        Shape of one input.
    latent_dim : int
        Number of latent dimensions (>= 1).
    hidden : sequence of int, default (256, 128)
        Hidden-layer widths of the encoder (at least one); the decoder uses
        them in reverse order.
    likelihood : {"bernoulli", "gaussian"}, default "bernoulli"
        Observation model: Bernoulli (inputs in [0, 1], e.g. images) or
        Gaussian with fixed ``obs_sigma`` (real-valued inputs, best
        standardised).
    obs_sigma : float, default 0.1
        Standard deviation of the Gaussian likelihood.

    Returns
    -------
    BetaVAE

    Raises
    ------
    ValueError
        If a size is not positive, ``likelihood`` is unknown or
        ``obs_sigma`` is not positive.
    """
    input_shape = tuple(int(s) for s in input_shape)
    hidden = tuple(int(h) for h in hidden)
    if not input_shape or any(s <= 0 for s in input_shape):
        raise ValueError(f"input_shape must be non-empty and positive; got {input_shape!r}.")
    if int(latent_dim) != latent_dim or latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive integer; got {latent_dim!r}.")
    if not hidden or any(h <= 0 for h in hidden):
        raise ValueError(f"hidden must hold at least one positive width; got {hidden!r}.")
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}; got {likelihood!r}.")
    if not (obs_sigma > 0 and math.isfinite(obs_sigma)):
        raise ValueError(f"obs_sigma must be positive and finite; got {obs_sigma!r}.")
    latent_dim = int(latent_dim)
    size = math.prod(input_shape)
    k_enc, k_dec = jax.random.split(key)
    encoder = _mlp(k_enc, size, hidden, 2 * latent_dim)
    decoder = _mlp(k_dec, latent_dim, hidden[::-1], size)
    return BetaVAE(
        encoder=encoder,
        decoder=decoder,
        input_shape=input_shape,
        latent_dim=latent_dim,
        likelihood=likelihood,
        obs_sigma=float(obs_sigma),
    )


def encode(model: BetaVAE, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Posterior means and log-variances for a batch.

    Parameters
    ----------
    model : BetaVAE
    x : jax.Array
        Shape ``(n, *input_shape)``.

    Returns
    -------
    mean, logvar : jax.Array
        Each of shape ``(n, latent_dim)``.
    """
    return jax.vmap(model.encode_one)(x)


def _neg_log_lik(model: BetaVAE, x: jax.Array, params: jax.Array) -> jax.Array:
    """-log p(x | z) summed over the input's entries, for one example."""
    x = x.astype(_DTYPE)
    if model.likelihood == "bernoulli":
        # Cross-entropy with logits; valid for x in [0, 1] (grey levels too).
        return jnp.sum(jax.nn.softplus(params) - x * params)
    r = (x - params) / model.obs_sigma
    return jnp.sum(0.5 * r**2 + math.log(model.obs_sigma) + 0.5 * math.log(2.0 * math.pi))


def elbo_terms(model: BetaVAE, x: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Per-example reconstruction NLL and KL(q(z|x) || N(0, I)).

    Parameters
    ----------
    model : BetaVAE
    x : jax.Array
        Batch, shape ``(n, *input_shape)``.
    key : jax.Array
        PRNG key for the reparameterised latent samples (one per example).

    Returns
    -------
    recon, kl : jax.Array
        Each of shape ``(n,)``, in nats. The negative ELBO is ``recon + kl``.
    """
    mean, logvar = encode(model, x)
    eps = jax.random.normal(key, mean.shape, dtype=mean.dtype)
    z = mean + jnp.exp(0.5 * logvar) * eps
    params = jax.vmap(model.decode_one)(z)
    recon = jax.vmap(lambda xi, pi: _neg_log_lik(model, xi, pi))(x, params)
    kl = 0.5 * jnp.sum(jnp.exp(logvar) + mean**2 - 1.0 - logvar, axis=-1)
    return recon, kl


def loss_fn(
    model: BetaVAE, x: jax.Array, key: jax.Array, beta: float
) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    """Batch-mean β-VAE loss ``recon + β · KL``, with the two terms as aux.

    Parameters
    ----------
    model : BetaVAE
    x : jax.Array
        Batch, shape ``(n, *input_shape)``.
    key : jax.Array
        PRNG key for the latent samples.
    beta : float
        Weight of the KL term (β = 1 is the ordinary VAE).

    Returns
    -------
    loss : jax.Array
        Scalar.
    (recon, kl) : tuple of jax.Array
        Batch means of the two terms.
    """
    recon, kl = elbo_terms(model, x, key)
    recon, kl = jnp.mean(recon), jnp.mean(kl)
    return recon + beta * kl, (recon, kl)


class TrainHistory(NamedTuple):
    """Per-step training curves (batch means), each of shape ``(steps,)``.

    Attributes
    ----------
    loss : numpy.ndarray
        recon + β · KL.
    recon : numpy.ndarray
        Reconstruction negative log-likelihood, nats per example.
    kl : numpy.ndarray
        KL(q(z|x) || p(z)), nats per example (the rate).
    """

    loss: np.ndarray
    recon: np.ndarray
    kl: np.ndarray


def _check_fit_args(steps: int, batch_size: int, beta: float, learning_rate: float,
                    n: int, log_every: int) -> None:
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}.")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    if not (beta >= 0 and math.isfinite(beta)):
        raise ValueError(f"beta must be finite and >= 0; got {beta!r}.")
    if not (learning_rate > 0 and math.isfinite(learning_rate)):
        raise ValueError(f"learning_rate must be positive and finite; got {learning_rate!r}.")
    if n < 1:
        raise ValueError("the training data are empty.")
    if int(log_every) != log_every or log_every < 1:
        raise ValueError(f"log_every must be a positive integer; got {log_every!r}.")


def fit(
    model: BetaVAE,
    data: np.ndarray | jax.Array,
    *,
    key: jax.Array,
    steps: int,
    beta: float = 4.0,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    log_every: int = 250,
    progress: Callable[[int, int, float, float, float], None] | None = None,
) -> tuple[BetaVAE, TrainHistory]:
    """Train a β-VAE with Adam on random mini-batches.

    Each step draws ``batch_size`` row indices uniformly (with replacement)
    and one latent sample per row, both from ``key``; the whole run is a
    deterministic function of ``model``, ``data`` and ``key``. Steps run in
    jitted ``lax.scan`` chunks of ``log_every`` steps.

    Parameters
    ----------
    model : BetaVAE
        Initial model (see :func:`make_vae`).
    data : array
        Training inputs, shape ``(n, *model.input_shape)``.
    key : jax.Array
        PRNG key for batches and latent samples.
    steps : int
        Number of optimisation steps (>= 1).
    beta : float, default 4.0
        KL weight (>= 0).
    batch_size : int, default 128
        Rows per step (capped at ``n``).
    learning_rate : float, default 1e-3
        Adam step size.
    log_every : int, default 250
        Steps per jitted chunk, and how often ``progress`` is called.
    progress : callable, optional
        Called after each chunk as ``progress(step, steps, loss, recon, kl)``
        with the means over the chunk.

    Returns
    -------
    model : BetaVAE
        The trained model.
    history : TrainHistory
        Per-step loss, reconstruction and KL.

    Raises
    ------
    ValueError
        On a non-positive ``steps``/``batch_size``/``learning_rate``,
        negative ``beta``, empty data or a data shape that does not match
        the model.
    """
    data = jnp.asarray(data, dtype=_DTYPE)
    n = int(data.shape[0]) if data.ndim else 0
    _check_fit_args(steps, batch_size, beta, learning_rate, n, log_every)
    if tuple(data.shape[1:]) != model.input_shape:
        raise ValueError(
            f"data rows have shape {tuple(data.shape[1:])}; the model expects {model.input_shape}."
        )
    steps, batch_size, log_every = int(steps), min(int(batch_size), n), int(log_every)
    beta = float(beta)

    optimizer = optax.adam(learning_rate)
    params, static = eqx.partition(model, eqx.is_array)
    opt_state = optimizer.init(params)

    def one_step(data, carry, step_key):
        params, opt_state = carry
        k_batch, k_z = jax.random.split(step_key)
        idx = jax.random.randint(k_batch, (batch_size,), 0, n)

        def objective(p):
            return loss_fn(eqx.combine(p, static), data[idx], k_z, beta)

        (loss, (recon, kl)), grads = jax.value_and_grad(objective, has_aux=True)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return (params, opt_state), jnp.stack([loss, recon, kl])

    # The data are an argument (not a closed-over constant) so that they are
    # not baked into the compiled program.
    @jax.jit
    def run_chunk(params, opt_state, keys, data):
        (params, opt_state), metrics = jax.lax.scan(
            lambda carry, k: one_step(data, carry, k), (params, opt_state), keys
        )
        return params, opt_state, metrics

    step_keys = jax.random.split(key, steps)
    chunks = []
    done = 0
    while done < steps:
        m = min(log_every, steps - done)
        params, opt_state, metrics = run_chunk(params, opt_state, step_keys[done:done + m], data)
        metrics = np.asarray(metrics)
        chunks.append(metrics)
        done += m
        if progress is not None:
            loss, recon, kl = metrics.mean(axis=0)
            progress(done, steps, float(loss), float(recon), float(kl))
    metrics = np.concatenate(chunks, axis=0).astype(np.float64)
    history = TrainHistory(loss=metrics[:, 0], recon=metrics[:, 1], kl=metrics[:, 2])
    return eqx.combine(params, static), history


def encode_dataset(
    model: BetaVAE,
    data: np.ndarray | jax.Array,
    *,
    key: jax.Array,
    batch_size: int = 2048,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sampled latents, posterior means and log-variances for every row.

    Parameters
    ----------
    model : BetaVAE
    data : array
        Shape ``(n, *model.input_shape)``.
    key : jax.Array
        PRNG key for the latent draws: row i gets ``z_i = μ_i + σ_i ε_i`` with
        ``ε`` drawn once for the whole array from ``key`` (so the draw does not
        depend on ``batch_size``).
    batch_size : int, default 2048
        Rows encoded per call (memory only; does not change the result).

    Returns
    -------
    z, mean, logvar : numpy.ndarray
        Each float32 of shape ``(n, latent_dim)``; ``z ~ q(z | x)`` is one
        draw per row.
    """
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    data = jnp.asarray(data, dtype=_DTYPE)
    n = int(data.shape[0])
    enc = eqx.filter_jit(encode)
    means, logvars = [], []
    for start in range(0, n, int(batch_size)):
        m, lv = enc(model, data[start:start + int(batch_size)])
        means.append(np.asarray(m))
        logvars.append(np.asarray(lv))
    mean = np.concatenate(means) if means else np.zeros((0, model.latent_dim), np.float32)
    logvar = np.concatenate(logvars) if logvars else np.zeros_like(mean)
    eps = np.asarray(jax.random.normal(key, mean.shape, dtype=_DTYPE))
    z = (mean + np.exp(0.5 * logvar) * eps).astype(np.float32)
    return z, mean.astype(np.float32), logvar.astype(np.float32)


def stderr_progress(prefix: str = "") -> Callable[[int, int, float, float, float], None]:
    """A ``progress`` callback for :func:`fit` that prints one line to stderr.

    Parameters
    ----------
    prefix : str, default ""
        Text put before each line.

    Returns
    -------
    callable
    """

    def report(step: int, steps: int, loss: float, recon: float, kl: float) -> None:
        print(f"{prefix}step {step:>6d}/{steps}  loss {loss:10.3f}  recon {recon:10.3f}"
              f"  kl {kl:8.3f}", file=sys.stderr, flush=True)

    return report
