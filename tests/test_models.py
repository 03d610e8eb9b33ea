"""Tests of the β-VAE in models/ (beta_vae.py and the train.py script)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest

MODELS = Path(__file__).resolve().parents[1] / "models"


def _load(name: str):
    """Import a script from models/ (not a package) under a private name."""
    if str(MODELS) not in sys.path:
        sys.path.insert(0, str(MODELS))
    spec = importlib.util.spec_from_file_location(f"_models_{name}", MODELS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train_mod = _load("train")
beta_vae = train_mod.beta_vae

N, STEPS = 256, 5
FAST = ["--n", str(N), "--steps", str(STEPS), "--log-every", "5", "--quiet"]


# --------------------------------------------------------------------------- #
# The training script
# --------------------------------------------------------------------------- #
EXPECTED = {"sprites": (6, {"shape"}, {"scale", "rotation", "pos_x", "pos_y"}),
            "halos": (4, set(), {"log10_mass", "concentration", "alpha"})}


def _run(tmp_path: Path, *args: str) -> dict[str, np.ndarray]:
    out = tmp_path / "out.npz"
    assert train_mod.main([*args, *FAST, "--out", str(out)]) == 0
    with np.load(out, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("dataset", ["sprites", "halos"])
def test_script_writes_latents_and_factors(dataset, tmp_path):
    arrays = _run(tmp_path, dataset)
    d, categorical, continuous = EXPECTED[dataset]
    for key in ("z", "z_mean", "z_logvar"):
        assert arrays[key].shape == (N, d) and arrays[key].dtype == np.float32
        assert np.isfinite(arrays[key]).all()
    # One sampled draw per row: not the posterior mean.
    assert not np.allclose(arrays["z"], arrays["z_mean"])
    for key in ("loss", "recon", "kl"):
        assert arrays[key].shape == (STEPS,) and np.isfinite(arrays[key]).all()
    assert arrays["kl_per_dim"].shape == (d,) and (arrays["kl_per_dim"] >= 0).all()

    names = arrays["factor_names"].tolist()
    kinds = dict(zip(names, arrays["factor_kinds"].tolist()))
    assert categorical | continuous <= set(names)
    for name in names:
        values = arrays[f"factor__{name}"]
        assert values.shape == (N,)
        if kinds[name] == "categorical":
            levels = arrays[f"levels__{name}"]
            assert values.dtype == np.int64 and levels.dtype.kind == "U"
            assert values.min() >= 0 and values.max() < len(levels)
        else:
            assert values.dtype == np.float64 and np.isfinite(values).all()
    assert {n for n in names if kinds[n] == "categorical"} == categorical

    # The factors are the data set's own, for the same seed.
    from bayes_gmm_mi.datasets import HaloProfiles, Sprites

    gen = Sprites(size=32) if dataset == "sprites" else HaloProfiles(profile="nfw")
    _, factors = gen.sample(N, random_state=0)
    assert names == list(factors.columns)
    for name in continuous:
        np.testing.assert_array_equal(arrays[f"factor__{name}"], factors[name])
    for name in categorical:
        levels = [str(c) for c in factors[name].cat.categories]
        assert arrays[f"levels__{name}"].tolist() == levels
        np.testing.assert_array_equal(arrays[f"factor__{name}"], factors[name].cat.codes)

    settings = json.loads(arrays["settings"].item())
    assert settings["dataset"] == dataset and settings["steps"] == STEPS
    assert settings["n"] == N and settings["latent_dim"] == d and settings["seed"] == 0


@pytest.mark.slow  # a new Python process: imports and compiles from scratch
def test_script_runs_from_the_command_line(tmp_path):
    out = tmp_path / "sub" / "halos.npz"
    proc = subprocess.run(
        [sys.executable, str(MODELS / "train.py"), "halos", "--n", "64", "--steps", "3",
         "--log-every", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # progress goes to stderr only
    assert "step      3/3" in proc.stderr and "wrote" in proc.stderr
    with np.load(out, allow_pickle=False) as f:
        assert f["z"].shape == (64, 4) and f["loss"].shape == (3,)


def test_load_output_gives_dataframes(tmp_path):
    _run(tmp_path, "sprites")
    latents, factors, info = train_mod.load_output(tmp_path / "out.npz")
    assert list(latents.columns) == [f"z{i}" for i in range(6)] and len(latents) == N
    assert isinstance(factors["shape"].dtype, pd.CategoricalDtype)
    assert len(factors) == N and info["dataset"] == "sprites"


def test_same_seed_same_output_and_other_seed_differs(tmp_path):
    a = _run(tmp_path / "a", "halos", "--seed", "3")
    b = _run(tmp_path / "b", "halos", "--seed", "3")
    c = _run(tmp_path / "c", "halos", "--seed", "4")
    for key in a:
        if key != "train_seconds":
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert not np.allclose(a["z"], c["z"])
    assert not np.allclose(a["factor__log10_mass"], c["factor__log10_mass"])


def test_data_seed_fixes_the_data_only(tmp_path):
    a = _run(tmp_path / "a", "halos", "--seed", "1", "--data-seed", "7")
    b = _run(tmp_path / "b", "halos", "--seed", "2", "--data-seed", "7")
    np.testing.assert_array_equal(a["factor__concentration"], b["factor__concentration"])
    assert not np.allclose(a["z_mean"], b["z_mean"])


@pytest.mark.parametrize("args", [
    ["mnist"],
    ["sprites", "--steps", "0"],
    ["sprites", "--steps", "-3"],
    ["halos", "--n", "0"],
    ["halos", "--beta", "-1"],
    ["halos", "--beta", "nan"],
    ["sprites", "--latent-dim", "0"],
    ["sprites", "--hidden", "256,x"],
    ["sprites", "--profile", "nfw"],
    ["sprites", "--out", "latents.csv"],
])
def test_bad_arguments_exit_2(args, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        train_mod.main(args if "--out" in args else [*args, "--out", str(tmp_path / "o.npz")])
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "o.npz").exists()


def test_train_function_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown data set"):
        train_mod.train("mnist")
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        train_mod.train("halos", n=32, steps=0, verbose=False)
    with pytest.raises(ValueError, match="beta must be finite and >= 0"):
        train_mod.train("halos", n=32, steps=2, beta=-0.5, verbose=False)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        train_mod.train("halos", n=0, steps=2, verbose=False)


# --------------------------------------------------------------------------- #
# The model
# --------------------------------------------------------------------------- #
def test_elbo_decreases_on_a_tiny_problem():
    rng = np.random.default_rng(0)
    t = rng.normal(size=(512, 2))
    x = np.tanh(t @ rng.normal(size=(2, 8))).astype(np.float32)
    model = beta_vae.make_vae(jax.random.key(0), (8,), latent_dim=2, hidden=(32,),
                              likelihood="gaussian", obs_sigma=0.3)
    _, history = beta_vae.fit(model, x, key=jax.random.key(1), steps=60, beta=1.0,
                              batch_size=64, learning_rate=3e-3, log_every=60)
    assert history.loss.shape == (60,)
    assert history.loss[-10:].mean() < 0.7 * history.loss[:10].mean()
    np.testing.assert_allclose(history.loss, history.recon + history.kl, rtol=1e-5)


def test_bernoulli_model_shapes_and_sampled_latents():
    model = beta_vae.make_vae(jax.random.key(0), (4, 4), latent_dim=3, hidden=(16, 8))
    x = np.random.default_rng(0).uniform(size=(10, 4, 4)).astype(np.float32)
    mean, logvar = beta_vae.encode(model, x)
    assert mean.shape == logvar.shape == (10, 3)
    z, m, lv = beta_vae.encode_dataset(model, x, key=jax.random.key(2), batch_size=3)
    z2, m2, lv2 = beta_vae.encode_dataset(model, x, key=jax.random.key(2), batch_size=10)
    np.testing.assert_allclose(m, mean, atol=1e-6)
    # The draw does not depend on batch_size (same key, same noise); the encoder's
    # matmuls may round differently per batch shape, so compare with a tolerance.
    np.testing.assert_allclose(z, z2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m, m2, atol=1e-6)
    assert not np.allclose(z, m)


def test_make_vae_and_fit_validate():
    with pytest.raises(ValueError, match="likelihood must be one of"):
        beta_vae.make_vae(jax.random.key(0), (4,), latent_dim=2, likelihood="poisson")
    with pytest.raises(ValueError, match="latent_dim must be a positive integer"):
        beta_vae.make_vae(jax.random.key(0), (4,), latent_dim=0)
    with pytest.raises(ValueError, match="obs_sigma must be positive"):
        beta_vae.make_vae(jax.random.key(0), (4,), latent_dim=2, obs_sigma=0.0)
    model = beta_vae.make_vae(jax.random.key(0), (4,), latent_dim=2, hidden=(8,))
    x = np.zeros((16, 4), np.float32)
    with pytest.raises(ValueError, match="beta must be finite and >= 0"):
        beta_vae.fit(model, x, key=jax.random.key(0), steps=2, beta=-1.0)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        beta_vae.fit(model, x, key=jax.random.key(0), steps=0)
    with pytest.raises(ValueError, match="the model expects"):
        beta_vae.fit(model, np.zeros((16, 5), np.float32), key=jax.random.key(0), steps=2)
