"""The event queue's transitions: claim, read (the reread schedule), failure, release, prune, stats."""

import pytest
from helpers import Clock

from woodoo.state import State

NOW = 1_800_000_000.0
LEASE = 60.0


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def state(tmp_path, clock):
    opened = State(tmp_path / "state.sqlite", clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def events(state):
    return state.events


def enqueue(events, event_id, due_at=NOW, source="odoo"):
    return events.enqueue(source, event_id, {"product_ids": [1]}, event_time=NOW - 1, due_at=due_at)


def row(state, event_id):
    [found] = state.database.db["events"].rows_where("event_id = ?", [event_id])
    return found


def test_an_event_is_stored_once_per_source_and_id(events):
    assert enqueue(events, "e-1") is True
    assert enqueue(events, "e-1") is False
    assert enqueue(events, "e-1", source="woocommerce") is True
    assert events.stats()["depth"] == 2


def test_a_claim_leases_what_is_due_and_no_other_claim_gets_it(events, clock):
    enqueue(events, "now")
    enqueue(events, "soon", due_at=NOW + 0.1)
    enqueue(events, "later", due_at=NOW + 10)
    enqueue(events, "shop", source="woocommerce")
    claim = events.stake_claim(lease_seconds=LEASE, early=0.2, source="odoo")
    assert [e.event_id for e in claim.events] == ["now", "soon"]
    assert events.stake_claim(lease_seconds=LEASE, early=0.2, source="odoo").events == []
    clock.now += LEASE + 1  # the lease ran out: the events are claimable again
    again = events.stake_claim(lease_seconds=LEASE)
    assert {e.event_id for e in again.events} == {"now", "soon", "later", "shop"}
    assert again.id != claim.id


def test_reads_follow_the_reread_schedule_until_done(state, events, clock):
    enqueue(events, "e-1")
    claim = events.stake_claim(lease_seconds=LEASE)
    [event] = claim.events
    assert events.mark_read(claim, event, NOW + 5) is True
    assert events.stats() == {"depth": 1, "oldest_due_at": NOW + 5, "next_claimable_at": NOW + 5}
    assert events.stake_claim(lease_seconds=LEASE).events == []  # not due before the reread
    clock.now = NOW + 5
    claim = events.stake_claim(lease_seconds=LEASE)
    [event] = claim.events
    assert event.reads == 1
    assert events.mark_read(claim, event, None) is True
    done = row(state, "e-1")
    assert (done["reads"], done["first_read_at"], done["done_at"]) == (2, NOW, NOW + 5)
    assert events.stats()["depth"] == 0


def test_a_counted_failure_uses_an_attempt_and_the_last_one_sets_the_event_aside(state, events, clock):
    enqueue(events, "e-1")
    claim = events.stake_claim(lease_seconds=LEASE)
    [event] = claim.events
    assert events.mark_failure(claim, event, "ValueError: odd", retry_at=NOW + 30) is True
    waiting = row(state, "e-1")
    assert (waiting["attempts"], waiting["due_at"], waiting["failed_at"]) == (1, NOW + 30, None)
    clock.now = NOW + 30
    claim = events.stake_claim(lease_seconds=LEASE)
    [event] = claim.events
    assert event.attempts == 1
    events.mark_failure(claim, event, "ValueError: odd", retry_at=None)
    [failed] = events.failed()
    assert (failed["event_id"], failed["attempts"], failed["failed_at"]) == ("e-1", 2, NOW + 30)
    assert failed["last_error"] == "ValueError: odd"
    assert events.stake_claim(lease_seconds=LEASE).events == []
    assert events.retry_failed() == 1  # fresh attempts, due now
    [event] = events.stake_claim(lease_seconds=LEASE).events
    assert event.attempts == 0


def test_an_uncounted_failure_waits_without_using_an_attempt(state, events):
    enqueue(events, "e-1")
    claim = events.stake_claim(lease_seconds=LEASE)
    events.mark_failure(claim, claim.events[0], "RemoteError: odoo down", retry_at=NOW + 30,
                        counted=False)
    waiting = row(state, "e-1")
    assert (waiting["attempts"], waiting["due_at"], waiting["lease_until"]) == (0, NOW + 30, None)
    assert waiting["last_error"] == "RemoteError: odoo down"


def test_a_claim_taken_over_changes_nothing(state, events, clock):
    enqueue(events, "e-1")
    stale = events.stake_claim(lease_seconds=LEASE)
    clock.now += LEASE + 1  # the worker took too long: another claim takes the event
    current = events.stake_claim(lease_seconds=LEASE)
    [event] = stale.events
    before = row(state, "e-1")
    assert events.mark_read(stale, event, None) is False
    assert events.mark_failure(stale, event, "late", retry_at=None) is False
    assert events.release_claim(stale) == 0
    assert row(state, "e-1") == before
    assert events.mark_read(current, current.events[0], None) is True
    assert row(state, "e-1")["done_at"] == clock.now


def test_releasing_a_claim_hands_back_only_what_it_still_holds(events, clock):
    enqueue(events, "read")
    enqueue(events, "untouched")
    claim = events.stake_claim(lease_seconds=LEASE)
    read = next(e for e in claim.events if e.event_id == "read")
    events.mark_read(claim, read, NOW + 5)
    assert events.release_claim(claim) == 1
    [event] = events.stake_claim(lease_seconds=LEASE).events  # at once, not after the lease
    assert event.event_id == "untouched"
    clock.now = NOW + 5
    assert [e.event_id for e in events.stake_claim(lease_seconds=LEASE).events] == ["read"]


def test_at_start_up_every_claim_is_released(events):
    enqueue(events, "e-1")
    enqueue(events, "e-2")
    events.stake_claim(lease_seconds=LEASE)
    assert events.stats()["next_claimable_at"] == NOW + LEASE
    assert events.release_all_claims() == 2
    assert events.stats()["next_claimable_at"] == NOW
    assert len(events.stake_claim(lease_seconds=LEASE).events) == 2


def test_prune_forgets_only_processed_events_older_than_asked(events, clock):
    for event_id in ("old", "recent", "waiting"):
        enqueue(events, event_id)
    claim = events.stake_claim(lease_seconds=LEASE)
    by_id = {e.event_id: e for e in claim.events}
    events.mark_read(claim, by_id["old"], None)
    clock.now = NOW + 100
    events.mark_read(claim, by_id["recent"], None)
    assert events.prune(older_than=NOW + 50) == 1
    assert events.prune(older_than=NOW + 50) == 0
    assert events.stats()["depth"] == 1  # "waiting" is not processed: it stays
