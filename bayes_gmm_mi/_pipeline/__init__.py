"""The estimation pipeline behind every public entry point (private).

One stage per module, each used by every entry point:

==============  =====================================================================
stage           module
==============  =====================================================================
settings        :mod:`.settings` — one declarative table of parameter constraints
prepare         :mod:`.prepare` — validated columns → a stack of M weighted data sets
select          :mod:`.select` — K per data set (cv/aic/bic/fixed), vectorised
fit             :mod:`.fit` — EM of any members through the batched kernels
uncertainty     :mod:`.uncertainty` — bootstrap / VI / MCMC behind one interface
integrate       :mod:`.integrate` — one chunked driver, one source of base samples
==============  =====================================================================

:mod:`.engine` composes them; :mod:`.mixtures` pads and compacts batches of
mixtures; :mod:`.seeds` names the random streams. The kernels (``_em``,
``_mi``, ``_linalg``, ``_batching``) stay pure JAX.
"""
