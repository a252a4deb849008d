"""The four transfer families: each mechanism on tiny data, then what is particular."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the deep extra (torch) is not installed")


from normalcy import load, save  # noqa: E402
from normalcy.exceptions import InputError  # noqa: E402
from normalcy.io import models  # noqa: E402
from normalcy.transfer import (  # noqa: E402
    AdversarialTransfer,
    InstanceTransfer,
    MappingTransfer,
    ParameterTransfer,
    latent_discrepancy,
    latent_domain_accuracy,
)

SENSORS = ["speed", "torque"]
WINDOW = 16
SMALL = {"window": WINDOW, "latent": 4, "hidden": 32, "epochs": 15, "batch_size": 64,
         "max_windows": 3000}
FAMILIES = [InstanceTransfer, ParameterTransfer, MappingTransfer, AdversarialTransfer]
# the target machine: larger, faster and offset compared with the source machine
SHIFT = {"amp": 1.6, "freq": 1.3, "offset": 0.8}



def machine(
    n: int, *, seed: int, amp: float = 1.0, freq: float = 1.0, offset: float = 0.0
) -> pd.DataFrame:
    """Healthy data of a rotating machine: two coupled sinusoid mixtures with noise.

    ``amp``, ``freq`` and ``offset`` make another machine or operating regime.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    phase = rng.uniform(0, 2 * np.pi, 2)
    speed = amp * np.sin(2 * np.pi * freq * t / 40 + phase[0]) + offset
    torque = 0.6 * amp * np.sin(2 * np.pi * freq * t / 17 + phase[1]) + 0.4 * speed
    values = np.c_[speed, torque] + 0.05 * rng.normal(size=(n, 2))
    return pd.DataFrame(values, columns=SENSORS)


@pytest.fixture(scope="module")
def domains() -> dict[str, pd.DataFrame]:
    """Training source and target, and held-out data of both machines."""
    return {
        "source": machine(3000, seed=6),
        "target": machine(400, seed=7, **SHIFT),
        "source_test": machine(1500, seed=8),
        "target_test": machine(1500, seed=9, **SHIFT),
    }


# ------------------------------------------------------------------ mechanisms
@pytest.mark.parametrize("method", ["classifier", "kmm"])
def test_instance_weights_favour_source_windows_like_the_target(method: str) -> None:
    like = machine(1500, seed=1)  # same regime as the target
    unlike = machine(1500, seed=2, amp=2.0, freq=2.2, offset=1.0)
    source = pd.concat([like, unlike], ignore_index=True)
    model = InstanceTransfer(method=method, **SMALL).fit(source, machine(400, seed=3))
    weights, ends = model.source_weights_, model.source_window_ends_
    assert weights.shape == ends.shape
    assert weights.mean() == pytest.approx(1.0)
    assert weights.max() <= model.weight_clip + 1e-9
    first = weights[ends < 1500]
    second = weights[ends >= 1500 + WINDOW]  # windows wholly in the unlike regime
    assert first.mean() > 10 * second.mean()
    assert np.median(first) > np.median(second)


def test_freezing_keeps_the_encoder_bit_equal(domains: dict[str, pd.DataFrame]) -> None:
    frozen = ParameterTransfer(freeze="encoder", **SMALL).fit(domains["source"],
                                                              domains["target"])
    final = {k: v.numpy() for k, v in frozen.network_.state_dict().items()}
    pre = frozen.pretrained_state_
    encoder = [k for k in final if k.startswith("encoder.")]
    decoder = [k for k in final if k.startswith("decoder.")]
    assert encoder and decoder
    for k in encoder:
        np.testing.assert_array_equal(final[k], pre[k])
    assert any(not np.array_equal(final[k], pre[k]) for k in decoder)
    assert all(p.requires_grad for p in frozen.network_.parameters())

    free = ParameterTransfer(freeze="none", **SMALL).fit(domains["source"], domains["target"])
    free_final = free.network_.state_dict()
    assert any(not np.array_equal(free_final[k].numpy(), free.pretrained_state_[k])
               for k in encoder)


@pytest.fixture(scope="module")
def unaligned(domains: dict[str, pd.DataFrame]) -> MappingTransfer:
    """Both domains reconstructed, no alignment penalty (the reference)."""
    return MappingTransfer(penalty_weight=0.0, **SMALL).fit(domains["source"], domains["target"])


@pytest.mark.parametrize("penalty", ["mmd", "coral"])
def test_alignment_penalty_lowers_latent_discrepancy(
    penalty: str, unaligned: MappingTransfer, domains: dict[str, pd.DataFrame]
) -> None:
    aligned = MappingTransfer(penalty=penalty, penalty_weight=1.0, **SMALL)
    aligned.fit(domains["source"], domains["target"])
    held_out = (domains["source_test"], domains["target_test"])
    before = latent_discrepancy(unaligned, *held_out, kind=penalty)
    after = latent_discrepancy(aligned, *held_out, kind=penalty)
    assert after < 0.5 * before


def test_dann_discriminator_is_near_chance(
    unaligned: MappingTransfer, domains: dict[str, pd.DataFrame]
) -> None:
    source, target = domains["source"], domains["target"]
    held_out = (domains["source_test"], domains["target_test"])
    dann = AdversarialTransfer(adversary_weight=2.0, **SMALL).fit(source, target)
    assert abs(dann.domain_accuracy(*held_out) - 0.5) <= 0.15
    # the same discriminator trained without gradient reversal tells the domains apart
    plain = AdversarialTransfer(adversary_weight=0.0, **SMALL).fit(source, target)
    assert plain.domain_accuracy(*held_out) > 0.9
    # and a fresh probe finds less domain information in the DANN codes
    probe_plain = latent_domain_accuracy(unaligned, *held_out)
    assert probe_plain > 0.9
    assert latent_domain_accuracy(dann, *held_out) < probe_plain - 0.05


# ------------------------------------------------------------------ particular
# (the shared contract - clone, fit/score/predict, the file, columns, gaps,
# determinism - runs over the four families in tests/test_contract.py)
def test_the_file_keeps_the_source_scaler_and_the_discriminator(
    domains: dict[str, pd.DataFrame], tmp_path
) -> None:
    model = AdversarialTransfer(**{**SMALL, "epochs": 2}).fit(domains["source"],
                                                               domains["target"])
    path = tmp_path / "transfer.normalcy"
    save(model, path)
    loaded = load(path)
    test = domains["target_test"].iloc[:300]
    np.testing.assert_array_equal(loaded.source_scaler_mean_, model.source_scaler_mean_)
    assert loaded.domain_accuracy(test, test) == model.domain_accuracy(test, test)


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.__name__)
def test_models_registry_knows_the_family(cls: type) -> None:
    assert models.KINDS[cls.__name__] == f"{cls.__module__}:{cls.__name__}"


def test_per_domain_scaling_uses_each_domain_statistics(
    domains: dict[str, pd.DataFrame]
) -> None:
    model = ParameterTransfer(scaling="per_domain", **{**SMALL, "epochs": 2})
    model.fit(domains["source"], domains["target"])
    np.testing.assert_allclose(model.source_scaler_mean_, domains["source"].mean().to_numpy())
    np.testing.assert_allclose(model.scaler_mean_, domains["target"].mean().to_numpy())


# ------------------------------------------------------------------ bad input
def test_target_with_other_sensors_is_refused(domains: dict[str, pd.DataFrame]) -> None:
    other = domains["target"].rename(columns={"torque": "current"})
    with pytest.raises(InputError, match=r"target data lacks the sensor column\(s\) \['torque'\]"):
        MappingTransfer(**SMALL).fit(domains["source"], other)
    with pytest.raises(InputError, match="target data has 3 columns but the source data has 2"):
        MappingTransfer(**SMALL).fit(domains["source"].to_numpy(), np.zeros((400, 3)))


@pytest.mark.parametrize("cls", FAMILIES)
def test_a_target_sampled_at_another_period_is_refused(
        cls: type, domains: dict[str, pd.DataFrame]) -> None:
    """A window counts rows: a 2 s target and a 1 s source were trained on together
    silently, their windows spanning twice and once the same seconds."""
    def timed(df: pd.DataFrame, period: str) -> pd.DataFrame:
        return df.set_axis(pd.date_range("2026-01-01", periods=len(df), freq=period))

    source, target = timed(domains["source"], "1s"), timed(domains["target"], "2s")
    # said as the two domains' periods, not as a model "fitted on data" at the source's
    with pytest.raises(InputError, match=r"target data is sampled every 2 s and the source "
                       r"data every 1 s.*Resample the target to the source's period"):
        cls(**SMALL).fit(source, target)
    model = cls(**{**SMALL, "epochs": 1, "max_windows": 300}).fit(
        source, timed(domains["target"], "1s"))
    assert model.threshold_ > 0  # the same period moves
    assert model.sample_period_ == 1.0  # and scoring the target at another is refused
    with pytest.raises(InputError, match=r"sampled every 2 s.*every 1 s"):
        model.score_samples(timed(domains["target_test"], "2s"))


def test_target_too_short_is_refused(domains: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(InputError, match="target data is too short for the window"):
        ParameterTransfer(**SMALL).fit(domains["source"], domains["target"].iloc[:WINDOW])


@pytest.mark.parametrize(
    ("cls", "name", "value"),
    [(InstanceTransfer, "method", "nearest"), (InstanceTransfer, "weight_clip", 0.0),
     (ParameterTransfer, "freeze", "decoder"), (ParameterTransfer, "fine_tune_epochs", 0),
     (MappingTransfer, "penalty", "wasserstein"), (MappingTransfer, "penalty_weight", -1.0),
     (AdversarialTransfer, "adversary_weight", -0.5), (AdversarialTransfer, "scaling", "none")],
)
def test_bad_family_parameters_name_themselves(
    cls: type, name: str, value: object, domains: dict[str, pd.DataFrame]
) -> None:
    with pytest.raises(InputError, match=f"'{name}' parameter of {cls.__name__}.*Got"):
        cls(**{**SMALL, name: value}).fit(domains["source"], domains["target"])


def test_latent_discrepancy_kind_is_checked(
    unaligned: MappingTransfer, domains: dict[str, pd.DataFrame]
) -> None:
    with pytest.raises(InputError, match="kind must be one of"):
        latent_discrepancy(unaligned, domains["source"], domains["target"], kind="kl")


def test_arrays_of_other_widths_are_said_as_the_two_domains(
        domains: dict[str, pd.DataFrame]) -> None:
    """Said as "the model has 2 sensors ... MappingTransfer is expecting 2 features" while
    no model had been fitted: the fit was in progress."""
    source = domains["source"].to_numpy()
    target = np.c_[domains["target"].to_numpy(), np.zeros(len(domains["target"]))]
    said = (r"the target data has 3 columns but the source data has 2 sensors \['s0', "
            r"'s1'\]: give both domains the same sensors in the same order")
    with pytest.raises(InputError, match=said):
        MappingTransfer(**SMALL).fit(source, target)
    with pytest.raises(InputError, match=said):
        MappingTransfer(**SMALL).fit(source, [target[:200, :2], target[200:]])
