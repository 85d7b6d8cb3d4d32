"""The window session's states: every move of the table, allowed or refused."""

import itertools

import pytest

from alphaction_demo.gui.session_state import ALLOWED, IllegalTransition, SessionState, StateMachine

S = SessionState
EXPECTED = {  # from -> the states it may go to; everything else is refused
    S.LOADING: {S.RUNNING, S.PAUSED, S.ENDED, S.FAILED},
    S.RUNNING: {S.PAUSED, S.RESTARTING, S.ENDED, S.FAILED},
    S.PAUSED: {S.RUNNING, S.RESTARTING, S.ENDED, S.FAILED},
    S.RESTARTING: {S.RUNNING, S.PAUSED, S.ENDED, S.FAILED},
    S.ENDED: set(),
    S.FAILED: set(),
}


@pytest.mark.parametrize("start, to", list(itertools.product(S, S)), ids=lambda s: s.value)
def test_every_move_is_allowed_or_refused_as_the_table_says(start, to):
    machine = StateMachine(start)
    if to is start or to in EXPECTED[start]:
        assert machine.move(to) is start and machine.state is to
    else:
        with pytest.raises(IllegalTransition, match=f"from {start.value} to {to.value}"):
            machine.move(to)
        assert machine.state is start


def test_the_table_is_the_one_the_session_uses():
    assert {state: set(targets) for state, targets in ALLOWED.items()} == EXPECTED


@pytest.mark.parametrize("first, then", [(S.FAILED, S.ENDED), (S.ENDED, S.FAILED)])
def test_a_terminal_state_keeps_the_first_reason(first, then):
    machine = StateMachine(S.RUNNING)
    assert machine.end(first) and not machine.end(then)
    assert machine.state is first
