"""The torch thread count: all cores on a free machine, one on a busy one, the user's override."""

from handviewer.threads import THREADS_ENV, choose_threads


def test_all_cores_when_free_one_when_busy(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert choose_threads(cores=2, load=0.3) == 2
    assert choose_threads(cores=2, load=1.0) == 2  # one core free beside ours
    assert choose_threads(cores=2, load=1.6) == 1
    assert choose_threads(cores=8, load=9.0) == 1


def test_the_environment_overrides_the_choice(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "3")
    assert choose_threads(cores=2, load=5.0) == 3


def test_a_bad_override_is_ignored_with_a_warning(monkeypatch, capsys):
    monkeypatch.setenv(THREADS_ENV, "abc")
    assert choose_threads(cores=2, load=0.0) == 2
    assert "not a positive number" in capsys.readouterr().err
