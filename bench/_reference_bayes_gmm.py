"""The reference Bayesian-GMM recipe for mutual information, rewritten from its description.

This is the recipe used as a baseline by the authors of the "Beyond Normal"
mutual-information benchmark (their ``benchmark-mi`` package), as described in
``/work/shared/DESIGN.md`` §4 and issue 3. It is written here from that
description only -- no code is taken from ``benchmark-mi``/``bmi`` or from
GMM-MI, and neither package is needed. It exists so that
``bench/bench_posterior.py`` can time it against ``bayes_gmm_mi`` on the same
data, in the same process environment.

The recipe
----------
* Data: each column standardised (zero mean, unit standard deviation).
* Model (NumPyro), ``K = 10`` components in ``D = 2`` dimensions::

      weights        ~ Dirichlet(1/K * ones(K))                  (sparse)
      means[k, d]    ~ Normal(0, 3)
      scales[k, d]   ~ HalfCauchy(1)
      corr_chol[k]   ~ LKJCholesky(D, concentration=1.0)          (uniform over correlations)
      x_i            ~ MixtureSameFamily(Categorical(weights),
                           MultivariateNormal(means, scale_tril=diag(scales[k]) @ corr_chol[k]))

* Inference: ``numpyro.infer.MCMC(NUTS(model))`` with NUTS' defaults, ONE chain,
  1000 warm-up + 1000 samples, NumPyro's default initialisation
  ``init_to_uniform`` (every unconstrained site drawn uniformly in (-2, 2), i.e.
  a random start, not the EM solution).
* MI per posterior draw: plain Monte Carlo with only 1000 points drawn from that
  draw's joint mixture, ``MI = mean[log p(x, y) - log p(x) - log p(y)]``, with the
  exact 1-D marginal mixtures ``p(x) = sum_k w_k N(x; mu_kx, s_kx)`` (written with
  ``jax.scipy.stats.norm`` and ``logsumexp``). Every draw gets fresh Monte Carlo
  points (no common random numbers), as in the recipe.
* Summary: posterior mean, standard deviation and 95 % percentile interval of the
  MI draws. With one chain there is no R-hat between chains; this module reports
  the split R-hat of the single chain and its effective sample size as extras.

Only scalar X and scalar Y are supported (``D = 2``), which is all the benchmark needs.

Run on its own::

    .venv/bin/python bench/_reference_bayes_gmm.py --n 2000 --seed 0
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

#: Settings of the reference recipe (issue 3 / DESIGN.md §4).
N_COMPONENTS = 10
MEAN_PRIOR_SCALE = 3.0
SCALE_PRIOR_SCALE = 1.0
LKJ_CONCENTRATION = 1.0
NUM_WARMUP = 1000
NUM_SAMPLES = 1000
NUM_CHAINS = 1
MC_POINTS = 1000
INIT_STRATEGY = "init_to_uniform (NumPyro's NUTS default: unconstrained sites ~ Uniform(-2, 2))"


def settings(num_warmup: int = NUM_WARMUP, num_samples: int = NUM_SAMPLES) -> dict:
    """The recipe's settings as a JSON-friendly dict (for the benchmark's record)."""
    return {
        "n_components": N_COMPONENTS,
        "weights_prior": f"Dirichlet(1/K * ones(K)), K={N_COMPONENTS}",
        "means_prior": f"Normal(0, {MEAN_PRIOR_SCALE}) per coordinate",
        "scales_prior": f"HalfCauchy({SCALE_PRIOR_SCALE}) per coordinate",
        "corr_prior": f"LKJCholesky(D, concentration={LKJ_CONCENTRATION})",
        "likelihood": "MixtureSameFamily(Categorical(w), MultivariateNormal(mu, scale_tril=diag(s) @ L))",
        "data": "each column standardised",
        "sampler": "numpyro.infer.MCMC(NUTS(model)), NUTS defaults",
        "num_chains": NUM_CHAINS,
        "num_warmup": num_warmup,
        "num_samples": num_samples,
        "init_strategy": INIT_STRATEGY,
        "mc_points_per_draw": MC_POINTS,
        "mc_points": "fresh per draw (no common random numbers)",
    }


def reference_model(data, n_components: int = N_COMPONENTS):
    """NumPyro model of the reference recipe: a K-component full-covariance GMM.

    Parameters
    ----------
    data : jax array of shape (N, D)
        Standardised observations.
    n_components : int, default 10
        Number of mixture components K.
    """
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    k = n_components
    d = data.shape[1]
    weights = numpyro.sample("weights", dist.Dirichlet(jnp.full((k,), 1.0 / k)))
    with numpyro.plate("components", k):
        means = numpyro.sample(
            "means", dist.Normal(0.0, MEAN_PRIOR_SCALE).expand([d]).to_event(1)
        )
        scales = numpyro.sample(
            "scales", dist.HalfCauchy(SCALE_PRIOR_SCALE).expand([d]).to_event(1)
        )
        corr_chol = numpyro.sample(
            "corr_chol", dist.LKJCholesky(d, concentration=LKJ_CONCENTRATION)
        )
    # diag(scales[k]) @ corr_chol[k], batched over k.
    scale_tril = scales[..., :, None] * corr_chol
    mixture = dist.MixtureSameFamily(
        dist.Categorical(probs=weights),
        dist.MultivariateNormal(loc=means, scale_tril=scale_tril),
    )
    with numpyro.plate("data", data.shape[0]):
        numpyro.sample("obs", mixture, obs=data)


def _mi_of_draws(samples: dict, rng_key, mc_points: int = MC_POINTS) -> np.ndarray:
    """Monte Carlo MI (nats) of every posterior draw, ``mc_points`` fresh points each."""
    import jax
    import jax.numpy as jnp
    import numpyro.distributions as dist
    from jax.scipy.special import logsumexp
    from jax.scipy.stats import norm

    def one(weights, means, scales, corr_chol, key):
        scale_tril = scales[:, :, None] * corr_chol
        joint = dist.MixtureSameFamily(
            dist.Categorical(probs=weights),
            dist.MultivariateNormal(loc=means, scale_tril=scale_tril),
        )
        pts = joint.sample(key, (mc_points,))  # (S, 2)
        log_joint = joint.log_prob(pts)
        log_w = jnp.log(weights)
        # Marginal of coordinate j: sum_k w_k N(mu_kj, scales_kj) -- the diagonal
        # of a correlation matrix is 1, so the marginal sd is the scale itself.
        log_px = logsumexp(log_w + norm.logpdf(pts[:, 0:1], means[:, 0], scales[:, 0]), axis=-1)
        log_py = logsumexp(log_w + norm.logpdf(pts[:, 1:2], means[:, 1], scales[:, 1]), axis=-1)
        return jnp.mean(log_joint - log_px - log_py)

    n_draws = samples["weights"].shape[0]
    keys = jax.random.split(rng_key, n_draws)
    fn = jax.jit(jax.vmap(one))
    mi = fn(samples["weights"], samples["means"], samples["scales"], samples["corr_chol"], keys)
    return np.asarray(mi, np.float64)


def reference_mi(
    x,
    y,
    *,
    seed: int = 0,
    num_warmup: int = NUM_WARMUP,
    num_samples: int = NUM_SAMPLES,
    progress_bar: bool = False,
) -> dict:
    """Run the reference recipe on paired scalar samples and summarise the MI draws.

    Parameters
    ----------
    x, y : array-like of shape (N,)
        Paired samples.
    seed : int, default 0
        Seeds ``jax.random.PRNGKey`` for the sampler (and, split, the MC points).
    num_warmup, num_samples : int, default 1000, 1000
        NUTS warm-up and kept iterations (one chain).
    progress_bar : bool, default False
        NumPyro's progress bar (on stderr).

    Returns
    -------
    dict
        ``mi`` (posterior mean, nats), ``std``, ``interval95`` ([2.5 %, 97.5 %]
        percentiles), ``draws`` (the MI draws), ``divergences``,
        ``mean_tree_depth``, ``split_r_hat`` (one chain, split in two halves),
        ``ess_bulk`` (NumPyro's ESS of the MI draws), ``effective_components``
        (mean number of components with weight > 1 %), and the timings
        ``sampling_time_s``, ``integration_time_s``, ``time_s``.
    """
    import jax
    import jax.numpy as jnp
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin
    from numpyro.infer import MCMC, NUTS, init_to_uniform

    t_start = time.perf_counter()
    data = np.column_stack([np.ravel(np.asarray(x, float)), np.ravel(np.asarray(y, float))])
    data = (data - data.mean(axis=0)) / data.std(axis=0)
    data = jnp.asarray(data, jnp.float32)

    key_mcmc, key_mi = jax.random.split(jax.random.PRNGKey(seed))
    kernel = NUTS(reference_model, init_strategy=init_to_uniform)
    mcmc = MCMC(
        kernel,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=NUM_CHAINS,
        progress_bar=progress_bar,
    )
    t0 = time.perf_counter()
    mcmc.run(key_mcmc, data, extra_fields=("diverging", "num_steps"))
    samples = mcmc.get_samples()
    jax.block_until_ready(samples)
    sampling_time = time.perf_counter() - t0

    t0 = time.perf_counter()
    mi = _mi_of_draws(samples, key_mi)
    integration_time = time.perf_counter() - t0

    extra = mcmc.get_extra_fields()
    num_steps = np.asarray(extra["num_steps"])
    finite = mi[np.isfinite(mi)]
    lo, hi = (np.percentile(finite, [2.5, 97.5]) if finite.size else (np.nan, np.nan))
    chain = finite[None, :]
    weights = np.asarray(samples["weights"])
    return {
        "mi": float(np.mean(finite)) if finite.size else float("nan"),
        "std": float(np.std(finite, ddof=1)) if finite.size > 1 else float("nan"),
        "interval95": [float(lo), float(hi)],
        "draws": mi,
        "n_draws": int(mi.size),
        "non_finite_draws": int(mi.size - finite.size),
        "divergences": int(np.sum(np.asarray(extra["diverging"]))),
        "mean_tree_depth": float(np.mean(np.log2(num_steps + 1))),
        "mean_leapfrog_steps": float(np.mean(num_steps)),
        "split_r_hat": float(split_gelman_rubin(chain)) if finite.size >= 4 else None,
        "ess_bulk": float(effective_sample_size(chain)) if finite.size >= 4 else None,
        "effective_components": float(np.mean(np.sum(weights > 0.01, axis=-1))),
        "sampling_time_s": sampling_time,
        "integration_time_s": integration_time,
        "time_s": time.perf_counter() - t_start,
    }


def main(argv=None) -> int:
    """Run the recipe on a gamma-exponential sample and print a JSON summary."""
    p = argparse.ArgumentParser(description="Reference Bayesian-GMM MI recipe (one run).")
    p.add_argument("--n", type=int, default=2000, help="sample size (default 2000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-warmup", type=int, default=NUM_WARMUP)
    p.add_argument("--num-samples", type=int, default=NUM_SAMPLES)
    p.add_argument("--progress", action="store_true", help="NumPyro progress bar (stderr)")
    args = p.parse_args(argv)

    from bayes_gmm_mi.datasets import get_dataset

    ds = get_dataset("gamma-exponential")
    x, y = ds.sample(args.n, random_state=args.seed)
    res = reference_mi(x, y, seed=args.seed, num_warmup=args.num_warmup,
                       num_samples=args.num_samples, progress_bar=args.progress)
    res.pop("draws")
    res["truth"] = float(ds.mi)
    res["truth_inside"] = bool(res["interval95"][0] <= ds.mi <= res["interval95"][1])
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
