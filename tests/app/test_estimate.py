"""Time left: a pure function of the planned stages, the finished ones and the rates the last run measured."""

from __future__ import annotations

import pytest

from crm_core import RefineOptions
from crm_core.matting import solve_cap
from app.estimate import (DEFAULT_RATES, PlannedStage, at_mean_pace, StageCost, StageRates, format_seconds, plan_stages,
                          seconds_left, stage_name, left_text)

# One run on the bundled 3492×2328 sample (bundled weights, CPU, default options), as Refiner.stages reported
# it: (kind, ratio, seconds, encoded pixels), measured again in session 30 (the second run of a process: the matte
# had become 5× cheaper). 6.6 s in all.
SAMPLE_PIXELS = 3492 * 2328
SAMPLE_RUN = [("model", 0.125, 0.35, 126876), ("model", 0.25, 0.75, 474880), ("model", 0.5, 1.06, 1021952),
              ("model", 1.0, 2.83, 2764800), ("snap", 1.0, 0.16, 0), ("matte", 1.0, 1.44, 0)]


def recorded(hw: tuple[int, int], run: list[tuple[str, float, float, int]],
             speed: float = 1.0) -> tuple[list[PlannedStage], list[StageCost]]:
    """The plan of a recorded run on a photo of ``hw``, and its stages as finished (``speed`` times as long)."""
    cap = solve_cap(*hw)
    plan = [PlannedStage(kind, ratio, hw[0] * hw[1], cap if kind == "matte" else 0) for kind, ratio, _, _ in run]
    return plan, [StageCost(p, seconds * speed, encoded) for p, (_, _, seconds, encoded) in zip(plan, run)]


def sample_run(speed: float = 1.0) -> tuple[list[PlannedStage], list[StageCost]]:
    return recorded((2328, 3492), SAMPLE_RUN, speed)


def truth_after(done: list[StageCost], i: int) -> float:
    return sum(c.seconds for c in done[i:])


def test_the_plan_is_the_stages_the_engine_yields():
    options = RefineOptions(min_side=400)
    plan = plan_stages(options, (2328, 3492))
    assert [(p.kind, p.ratio) for p in plan] == [("model", 0.125), ("model", 0.25), ("model", 0.5), ("model", 1.0),
                                                ("snap", 1.0), ("matte", 1.0)]
    assert len(plan_stages(RefineOptions(snap=False, matte=False), (600, 800))) == 2  # ×0.5 and ×1 only


@pytest.mark.parametrize("speed", [0.1, 1.0, 3.0])  # a GPU, the 2-core CPU the defaults came from, a slow laptop
def test_first_run_on_a_machine_follows_its_own_pace_after_one_stage(speed):
    plan, done = sample_run(speed)
    assert seconds_left(plan, [], DEFAULT_RATES) is None  # nothing measured here yet: no number, not a wrong one
    for i in range(1, len(done)):
        guess, truth = seconds_left(plan, done[:i], DEFAULT_RATES), truth_after(done, i)
        assert guess == pytest.approx(truth, rel=0.35), (i, guess, truth)


def test_next_run_is_close_from_the_start_even_on_a_slower_machine():
    plan, done = sample_run()
    rates = DEFAULT_RATES.learned(done)
    assert rates.snap == pytest.approx(SAMPLE_RUN[4][2] / (SAMPLE_PIXELS / 1e6))
    _, slower = sample_run(speed=1.5)  # the same photo while something else loads the CPU
    first = seconds_left(plan, [], rates)
    assert first == pytest.approx(truth_after(done, 0), rel=0.1)  # before the load shows, last run's pace
    for i in range(1, len(slower)):
        guess, truth = seconds_left(plan, slower[:i], rates), truth_after(slower, i)
        assert guess == pytest.approx(truth, rel=0.35), (i, guess, truth)
    assert seconds_left(plan, slower, rates) == 0.0



# Two 6000 px runs of dev_eval/uhr (session 30), whose band stages encoded more than the rescaled photo (the
# tiles' margins overlap where the band covers most of it): (height and width, SAMPLE_RUN-style stages).
SIX_K_RUNS = [((4022, 6000), [("model", 0.125, 1.11, 377250), ("model", 0.25, 2.65, 1846152),
                             ("model", 0.5, 5.21, 6691880), ("snap", 1.0, 0.92, 0), ("matte", 1.0, 3.16, 0)]),
              ((4243, 6000), [("model", 0.125, 0.63, 397500), ("model", 0.25, 2.22, 1935692),
                             ("model", 0.5, 4.59, 6234160), ("snap", 1.0, 0.97, 0), ("matte", 1.0, 3.42, 0)])]


@pytest.mark.parametrize("hw, run", SIX_K_RUNS)
def test_a_6k_photo_refined_again_is_estimated_from_its_own_band(hw, run):
    """Refined again (after a stroke), a 6K photo's time left came from the sample's spread of the band, since its
    own band stages, encoding more than the photo, were not read: 42-49 % short after its first stage."""
    plan, done = recorded(hw, run)
    rates = DEFAULT_RATES.learned(done)
    for i in range(len(done)):
        guess, truth = seconds_left(plan, done[:i], rates), truth_after(done, i)
        assert guess == pytest.approx(truth, rel=0.35), (i, guess, truth)

# A 3K and an 800 px photo of dev_eval's polygon sets and a 6K one of uhr (session 30): the matte's seconds follow
# its band at the solve's size, not the photo's pixels
OTHER_SIZES = [((2600, 3133), [("model", 0.25, 0.75, 508950), ("model", 0.5, 1.83, 2553264),
                               ("model", 1.0, 7.45, 9892616), ("snap", 1.0, 0.59, 0), ("matte", 1.0, 3.06, 0)]),
               ((490, 800), [("model", 0.5, 0.1, 98000), ("model", 1.0, 0.22, 392000), ("snap", 1.0, 0.02, 0),
                             ("matte", 1.0, 0.35, 0)]),
               SIX_K_RUNS[1]]


@pytest.mark.parametrize("hw, run", OTHER_SIZES)
def test_the_matte_of_a_first_run_is_estimated_from_its_band_at_the_solve_s_size(hw, run):
    """With the sample's rate per full-resolution pixel, the first run's matte was 54 % short on a 3K photo, 80 %
    short on an 800 px one and 66 % long on a 6K one."""
    plan, done = recorded(hw, run)
    before_matte = len(done) - 1
    guess = seconds_left(plan, done[:before_matte], DEFAULT_RATES)
    assert guess == pytest.approx(truth_after(done, before_matte), rel=0.4)


# an 800 px polygon of dev_eval refined enlarged ×3 while other work loaded the machine (session 53)
SMALL_RUNS = [OTHER_SIZES[1], ((400, 1160), [("model", 0.5, 0.09, 116000), ("model", 1.0, 0.69, 464000),
                                             ("snap", 1.0, 0.05, 0), ("matte", 1.0, 0.62, 0)])]


@pytest.mark.parametrize("small", SMALL_RUNS)
def test_a_6k_photo_after_an_800_px_one_is_not_told_a_fraction_of_its_time(small):
    """Two model stages cannot split a stage's cost between the photo's pixels and the encoder's: fitted exactly,
    they gave the next 6K run a fifth to a half of its time. Such a run keeps the split it had, at its own pace."""
    _, done = recorded(*small)
    rates = DEFAULT_RATES.learned(done)
    assert rates.full / rates.encoder == pytest.approx(DEFAULT_RATES.full / DEFAULT_RATES.encoder)
    plan, big = recorded(*SIX_K_RUNS[0])
    for i in range(len(big)):
        guess, truth = seconds_left(plan, big[:i], rates), truth_after(big, i)
        assert truth / 2 < guess < truth * 2, (i, guess, truth)


def test_a_folder_run_s_time_left_is_its_photos_at_their_mean_pace_so_far():
    assert at_mean_pace(0, 8, 0.0) is None  # nothing done: no number, not a wrong one
    assert at_mean_pace(2, 8, 50.0) == pytest.approx(150.0)  # 25 s a photo, 6 to go
    assert at_mean_pace(8, 8, 200.0) is None


def test_rates_survive_their_stored_form_and_bad_text_reads_as_unmeasured():
    rates = DEFAULT_RATES.learned(sample_run()[1])
    assert rates.measured_here and StageRates.from_text(rates.to_text()) == rates
    for text in ("", "1,2", "a,b,c,d,e", "1,-2,3,4,5", "nan,1,1,1,1"):
        assert StageRates.from_text(text) == DEFAULT_RATES


def test_status_text_names_the_stage_and_the_time_left():
    plan, done = sample_run()
    rates = DEFAULT_RATES.learned(done)

    def text(done_now, prior):
        return stage_name(plan, done_now) + left_text(seconds_left(plan, done_now, prior))

    assert text([], DEFAULT_RATES) == "Stage 1/6 · ×0.125"
    assert text([], rates) == "Stage 1/6 · ×0.125 · about 7 s left"  # 6.6 s measured
    assert text(done[:1], rates) == "Stage 2/6 · ×0.25 · about 7 s left"  # 6.2 s measured
    assert text(done[:5], rates) == "Stage 6/6 · matting hair and fine edges · about 1 s left"  # 1.4 s
    assert left_text(0.4) == left_text(-9) == " · almost done"  # counted down to the estimate, or just past it
    assert left_text(-11) == " · taking longer than estimated"
    # before the last stage, an estimate run out is no "almost done": stage 2 of 4 with the bar at a fifth
    assert left_text(-0.5, last=False) == left_text(-9, last=False) == " · taking longer than estimated"
    assert left_text(0.4, last=False) == " · under a second left"  # short steps: not late (a re-tester)
    assert left_text(30, last=False) == " · about 30 s left"
    assert format_seconds(0.3) == "under a second" and format_seconds(12) == "about 12 s"
    assert format_seconds(600) == "about 10 min"


def test_the_time_left_counts_down_while_a_long_stage_runs(window, monkeypatch):
    """The estimate came only at each stage's start, so a 79 s stage showed "about 16 s left" for a minute."""
    import time

    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    window._show_busy()
    assert window._countdown.isActive()
    window._progress_text, window._deadline = "Stage 4/6 · ×1", now[0] + 40  # what _progress and _eta keep
    window._countdown.timeout.emit()
    assert window.progress_label.text() == "Stage 4/6 · ×1 · about 40 s left"
    now[0] += 25
    window._countdown.timeout.emit()
    assert window.progress_label.text() == "Stage 4/6 · ×1 · about 15 s left"
    now[0] += 30
    window._countdown.timeout.emit()
    assert window.progress_label.text() == "Stage 4/6 · ×1 · taking longer than estimated"
    window._end_run()
    assert not window._countdown.isActive()


def test_the_refine_bar_shows_the_share_of_the_estimated_time(window, monkeypatch):
    """By steps alone a 6K photo's bar stood at 40 % (stage 3 of 5) with most of its time still to come."""
    import time

    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    monkeypatch.setattr(type(window), "_is_current", lambda self: True)
    bar = window.progress_bar
    window._show_busy()
    window._progress(0, 5, "Stage 1/5")
    assert bar.maximum() == 0  # busy: neither a pace nor an estimate yet
    window._eta(20)  # an estimate from the rates stored: the first stage's bar was a full busy bar, 30 % of a run
    assert (bar.value(), bar.maximum()) == (0, 1000)
    window._eta(-1)  # no estimate
    now[0] += 2
    window._progress(1, 5, "Stage 2/5")
    assert (bar.value(), bar.maximum()) == (1, 5)  # no estimate: the steps done
    window._eta(18)  # 2 s gone, 18 s to come
    assert bar.value() / bar.maximum() == pytest.approx(0.1, abs=0.002)
    now[0] += 8
    window._progress(2, 5, "Stage 3/5")
    assert bar.value() / bar.maximum() == pytest.approx(0.5, abs=0.002)  # 10 s gone, 10 s to come
    window._eta(30)  # a longer estimate: 30 s to come
    assert bar.value() / bar.maximum() == pytest.approx(0.5, abs=0.002)  # held where it was, not back to 25 %
    now[0] += 20
    window._countdown.timeout.emit()
    assert bar.value() / bar.maximum() == pytest.approx(30 / 40, abs=0.002)  # the time caught up
    now[0] += 60  # past the estimate: short of full while the run goes on
    window._countdown.timeout.emit()
    assert bar.value() < bar.maximum()


def test_an_objects_refine_s_bar_never_runs_ahead_of_the_object_under_way(window, monkeypatch):
    """One object slower than the mean ran the countdown out and filled a tester's bar at "Object 4 of 6", where it
    stayed to the end; objects take about as long as each other, so the bar stops at the end of the one under way."""
    import time

    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    monkeypatch.setattr(type(window), "_is_current", lambda self: True)
    bar = window.progress_bar
    window._show_busy(even_steps=True)
    window._progress(0, 6, "Loading the model…")
    assert (bar.value(), bar.maximum()) == (0, 6)  # 0 %, not a busy bar (drawn full-width: a re-tester)
    now[0] += 9
    window._progress(3, 6, "Object 4 of 6: shoes")
    window._eta(9)  # 3 s an object so far
    assert bar.value() / bar.maximum() == pytest.approx(0.5, abs=0.002)
    now[0] += 30  # the fourth takes far longer than the mean
    window._countdown.timeout.emit()
    assert bar.value() / bar.maximum() == pytest.approx(3.5 / 6, abs=0.002)  # half way through the fourth at most
    window._progress(5, 6, "Object 6 of 6: bag")
    now[0] += 60
    window._countdown.timeout.emit()
    assert bar.value() / bar.maximum() == pytest.approx(5.5 / 6, abs=0.002)  # the last one under way: not full
