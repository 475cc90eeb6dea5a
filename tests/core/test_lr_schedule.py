"""WarmupDecay and the Solver's per-step learning rate; PyTorch's schedulers as the oracle."""

import numpy as np
import pytest
from test_solver import make_solver

import barenet as bn


def test_warmup_then_linear_decay_by_hand():
    schedule = bn.WarmupDecay(total_steps=10, warmup_steps=2, decay="linear", final_factor=0.1)
    factors = [schedule(t) for t in range(12)]
    np.testing.assert_allclose(factors[:3], [0.5, 1.0, 1.0])
    assert factors[6] == pytest.approx(0.55)  # halfway through the decay
    assert factors[10] == factors[11] == pytest.approx(0.1)  # stays at the end


def test_cosine_decay_without_warmup_and_warmup_only():
    cosine = bn.WarmupDecay(total_steps=4)
    np.testing.assert_allclose(
        [cosine(t) for t in range(5)], [1, 0.853553, 0.5, 0.146447, 0], atol=1e-6
    )
    flat = bn.WarmupDecay(total_steps=5, warmup_steps=4, decay="none")
    assert [flat(t) for t in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("decay", ["cosine", "linear"])
def test_factors_match_torch_schedulers(decay):
    torch = pytest.importorskip("torch")
    warmup, total, final = 5, 40, 0.05
    schedule = bn.WarmupDecay(total, warmup, decay, final)

    def rates(make, steps):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        scheduler = make(opt)
        out = []
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
        return out

    lr_sched = torch.optim.lr_scheduler
    theirs = rates(lambda o: lr_sched.LinearLR(o, 1 / warmup, 1.0, warmup - 1), warmup)
    if decay == "cosine":
        theirs += rates(
            lambda o: lr_sched.CosineAnnealingLR(o, total - warmup, final), total - warmup + 1
        )
    else:
        theirs += rates(
            lambda o: lr_sched.LinearLR(o, 1.0, final, total - warmup), total - warmup + 1
        )
    np.testing.assert_allclose([schedule(t) for t in range(total + 1)], theirs, rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"total_steps": 10, "decay": "step"}, "decay must be one of"),
        ({"total_steps": 10, "warmup_steps": -1}, "warmup_steps must be an integer >= 0"),
        (
            {"total_steps": 3, "warmup_steps": 3},
            r"total_steps must be an integer > warmup_steps \(3\)",
        ),
        ({"total_steps": 10, "final_factor": 1.5}, r"final_factor must be in \[0, 1\]"),
    ],
)
def test_bad_settings_are_refused_with_their_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bn.WarmupDecay(**kwargs)


class RecordingSGD(bn.SGD):
    """SGD that records the learning rate of every step."""

    def step(self):
        self.rates = [*getattr(self, "rates", []), self.lr]
        super().step()


def test_solver_sets_the_scheduled_rate_before_every_update():
    # 150 training samples in batches of 32: 5 updates per epoch.
    schedule = bn.WarmupDecay(total_steps=10, warmup_steps=3, decay="linear")
    solver = make_solver(
        learning_rate=0.2, optimizer=RecordingSGD, lr_schedule=schedule, lr_decay=0.5
    )
    solver.train(epochs=2)
    expected = [0.2 * 0.5 ** (t // 5) * schedule(t) for t in range(10)]
    np.testing.assert_allclose(solver.opt.rates, expected, rtol=1e-15)
    assert solver.step_count == 10


def test_without_a_schedule_the_rate_changes_once_per_epoch():
    solver = make_solver(learning_rate=0.2, optimizer=RecordingSGD, lr_decay=0.5)
    solver.train(epochs=2)
    assert solver.opt.rates == [0.2] * 5 + [0.1] * 5


def test_a_schedule_that_is_not_callable_is_refused():
    with pytest.raises(ValueError, match="lr_schedule must be callable"):
        make_solver(lr_schedule=0.5)
