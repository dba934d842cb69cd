//! SessionClock tests: boundaries across the 2026 DST changes in London, New York and
//! Sydney, the weeks the US and UK are out of step, holidays, nonexistent and ambiguous
//! local times, configuration checks, views, and the agent emitting every boundary exactly
//! once however ticks are spaced (property test).

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use maxx_events::{BusEvent, EventTime, Session, SessionEvent, SessionEventKind};
use proptest::prelude::*;

use super::calendar::{Boundary, Calendar, CalendarError, OpenSession, DAY_US};
use super::{boundary_id, views, SessionClock, SessionClockConfig, SessionClockState, SessionSpec};
use crate::config::{AgentConfig, Validate};
use crate::contract::Agent;
use crate::portfolio::fixtures::{accept, refusals_leave_no_trace, tick};

const HOUR: i64 = 3_600_000_000;
const MINUTE: i64 = 60_000_000;

/// `y-m-d h:mi` UTC.
fn utc(y: i16, m: i8, d: i8, h: i8, mi: i8) -> EventTime {
    let dt = Date::new(y, m, d).expect("a date").to_datetime(Time::new(h, mi, 0, 0).expect("a time"));
    EventTime::from_micros(TimeZone::UTC.to_timestamp(dt).expect("in range").as_microsecond())
}

fn default_calendar() -> Calendar {
    Calendar::new(&SessionClockConfig::default()).expect("defaults compile")
}

/// The boundaries of `session` of kind `event` in [from, to).
fn times(calendar: &Calendar, session: Session, event: SessionEventKind, from: EventTime, to: EventTime) -> Vec<EventTime> {
    calendar.events_between(from, to).expect("in range").into_iter().filter(|b| b.session == session && b.event == event).map(|b| b.time).collect()
}

/// The first boundary of `session`/`event` on UTC day `y-m-d` (searching that day ± 1).
fn on(calendar: &Calendar, session: Session, event: SessionEventKind, y: i16, m: i8, d: i8) -> Vec<EventTime> {
    let day = utc(y, m, d, 0, 0);
    times(calendar, session, event, day, EventTime::from_micros(day.as_micros() + DAY_US))
}

#[test]
fn london_opens_at_08_utc_in_winter_and_07_utc_in_summer() {
    let c = default_calendar();
    use SessionEventKind::{Close, Open};
    // Spring: BST from Sunday 29 March 2026.
    assert_eq!(on(&c, Session::London, Open, 2026, 3, 27), [utc(2026, 3, 27, 8, 0)], "Friday, GMT");
    assert_eq!(on(&c, Session::London, Close, 2026, 3, 27), [utc(2026, 3, 27, 16, 30)]);
    assert_eq!(on(&c, Session::London, Open, 2026, 3, 30), [utc(2026, 3, 30, 7, 0)], "Monday, BST");
    assert_eq!(on(&c, Session::London, Close, 2026, 3, 30), [utc(2026, 3, 30, 15, 30)]);
    // Autumn: GMT again from Sunday 25 October 2026.
    assert_eq!(on(&c, Session::London, Open, 2026, 10, 23), [utc(2026, 10, 23, 7, 0)], "Friday, BST");
    assert_eq!(on(&c, Session::London, Open, 2026, 10, 26), [utc(2026, 10, 26, 8, 0)], "Monday, GMT");
    // The weekend between has no session.
    assert!(on(&c, Session::London, Open, 2026, 3, 28).is_empty() && on(&c, Session::London, Open, 2026, 3, 29).is_empty());
}

#[test]
fn new_york_opens_at_14_30_utc_in_winter_and_13_30_utc_in_summer() {
    let c = default_calendar();
    use SessionEventKind::{Close, Open};
    assert_eq!(on(&c, Session::NewYork, Open, 2026, 3, 6), [utc(2026, 3, 6, 14, 30)], "Friday, EST");
    assert_eq!(on(&c, Session::NewYork, Open, 2026, 3, 9), [utc(2026, 3, 9, 13, 30)], "Monday after 8 March, EDT");
    assert_eq!(on(&c, Session::NewYork, Close, 2026, 3, 9), [utc(2026, 3, 9, 20, 0)]);
    assert_eq!(on(&c, Session::NewYork, Open, 2026, 10, 30), [utc(2026, 10, 30, 13, 30)], "Friday, EDT");
    assert_eq!(on(&c, Session::NewYork, Open, 2026, 11, 2), [utc(2026, 11, 2, 14, 30)], "Monday after 1 November, EST");
    assert_eq!(on(&c, Session::NewYork, Close, 2026, 11, 2), [utc(2026, 11, 2, 21, 0)]);
}

#[test]
fn the_us_and_uk_are_out_of_step_exactly_from_9_to_27_march_and_26_to_30_october() {
    let c = default_calendar();
    let year = c.events_between(utc(2026, 1, 1, 0, 0), utc(2027, 1, 1, 0, 0)).expect("a year");
    let opens = |session: Session| -> Vec<EventTime> {
        year.iter().filter(|b| b.session == session && b.event == SessionEventKind::Open).map(|b| b.time).collect()
    };
    let (london, new_york) = (opens(Session::London), opens(Session::NewYork));
    assert_eq!(london.len(), 261, "Mon–Fri of 2026");
    assert_eq!(london.len(), new_york.len());
    let mut short = Vec::new();
    for (l, n) in london.iter().zip(&new_york) {
        assert_eq!(l.as_micros().div_euclid(DAY_US), n.as_micros().div_euclid(DAY_US), "same UTC day");
        match n.as_micros() - l.as_micros() {
            gap if gap == 6 * HOUR + 30 * MINUTE => {}
            gap if gap == 5 * HOUR + 30 * MINUTE => short.push(*l),
            gap => panic!("unexpected gap of {gap} µs on {l:?}"),
        }
    }
    let short_days: Vec<i64> = short.iter().map(|t| t.as_micros().div_euclid(DAY_US)).collect();
    let mut expected: Vec<i64> = (9..=13).chain(16..=20).chain(23..=27).map(|d| utc(2026, 3, d, 0, 0).as_micros() / DAY_US).collect();
    expected.extend((26..=30).map(|d| utc(2026, 10, d, 0, 0).as_micros() / DAY_US));
    assert_eq!(short_days, expected, "the three March weeks and the last October week");
}

#[test]
fn sydney_follows_southern_hemisphere_dst_and_tokyo_has_none() {
    let c = default_calendar();
    use SessionEventKind::Open;
    // AEDT (+11) ends Sunday 5 April 2026; AEST (+10) ends Sunday 4 October 2026.
    assert_eq!(on(&c, Session::Sydney, Open, 2026, 4, 2), [utc(2026, 4, 2, 23, 0)], "Friday 3 April 10:00 AEDT");
    assert_eq!(on(&c, Session::Sydney, Open, 2026, 4, 6), [utc(2026, 4, 6, 0, 0)], "Monday 6 April 10:00 AEST");
    assert_eq!(on(&c, Session::Sydney, Open, 2026, 10, 2), [utc(2026, 10, 2, 0, 0)], "Friday 2 October 10:00 AEST");
    assert_eq!(on(&c, Session::Sydney, Open, 2026, 10, 4), [utc(2026, 10, 4, 23, 0)], "Monday 5 October 10:00 AEDT, a Sunday in UTC");
    for (m, d) in [(1, 5), (3, 30), (7, 6), (10, 26)] {
        assert_eq!(on(&c, Session::Tokyo, Open, 2026, m, d), [utc(2026, m, d, 0, 0)]);
        assert_eq!(on(&c, Session::Tokyo, SessionEventKind::Close, 2026, m, d), [utc(2026, m, d, 6, 0)]);
    }
}

#[test]
fn holidays_are_skipped_for_their_session_only() {
    let mut config = SessionClockConfig::default();
    config.london.as_mut().expect("london").holidays = vec!["2026-12-25".into(), "2026-12-28".into()];
    let c = Calendar::new(&config).expect("compiles");
    use SessionEventKind::{Close, Open};
    assert!(on(&c, Session::London, Open, 2026, 12, 25).is_empty());
    assert!(on(&c, Session::London, Close, 2026, 12, 25).is_empty());
    assert!(on(&c, Session::London, Open, 2026, 12, 28).is_empty());
    assert_eq!(on(&c, Session::London, Open, 2026, 12, 24), [utc(2026, 12, 24, 8, 0)]);
    assert_eq!(on(&c, Session::London, Open, 2026, 12, 29), [utc(2026, 12, 29, 8, 0)]);
    assert_eq!(on(&c, Session::NewYork, Open, 2026, 12, 25), [utc(2026, 12, 25, 14, 30)], "not a New York holiday here");
}

#[test]
fn nonexistent_local_times_move_forward_and_ambiguous_ones_take_the_earlier_instant() {
    let config = SessionClockConfig {
        london: Some(SessionSpec { weekdays: vec!["Sun".into()], ..SessionSpec::weekdays("Europe/London", "01:30", "05:00") }),
        new_york: None,
        tokyo: None,
        sydney: None,
    };
    let c = Calendar::new(&config).expect("compiles");
    use SessionEventKind::{Close, Open};
    // 29 March: 01:30 does not exist (01:00 → 02:00); read as 02:30 BST.
    assert_eq!(on(&c, Session::London, Open, 2026, 3, 29), [utc(2026, 3, 29, 1, 30)]);
    assert_eq!(on(&c, Session::London, Close, 2026, 3, 29), [utc(2026, 3, 29, 4, 0)]);
    // 25 October: 01:30 happens twice; the first (BST) is taken.
    assert_eq!(on(&c, Session::London, Open, 2026, 10, 25), [utc(2026, 10, 25, 0, 30)]);
    assert_eq!(on(&c, Session::London, Close, 2026, 10, 25), [utc(2026, 10, 25, 5, 0)]);
}

#[test]
fn an_overnight_session_closes_the_next_day_and_same_instant_boundaries_close_first() {
    let config = SessionClockConfig {
        london: Some(SessionSpec::weekdays("UTC", "22:00", "06:00")),
        new_york: None,
        tokyo: Some(SessionSpec::weekdays("UTC", "06:00", "07:00")),
        sydney: None,
    };
    let c = Calendar::new(&config).expect("compiles");
    // From Monday 5 January 2026: Friday's overnight session closed on Saturday, and no
    // session opens on Sunday, so Monday begins with Tokyo.
    let events = c.events_between(utc(2026, 1, 5, 0, 0), utc(2026, 1, 6, 12, 0)).expect("range");
    let summary: Vec<(EventTime, Session, SessionEventKind)> = events.iter().map(|b| (b.time, b.session, b.event)).collect();
    use SessionEventKind::{Close, Open};
    assert_eq!(
        summary,
        [
            (utc(2026, 1, 5, 6, 0), Session::Tokyo, Open),
            (utc(2026, 1, 5, 7, 0), Session::Tokyo, Close),
            (utc(2026, 1, 5, 22, 0), Session::London, Open),
            (utc(2026, 1, 6, 6, 0), Session::London, Close),
            (utc(2026, 1, 6, 6, 0), Session::Tokyo, Open),
            (utc(2026, 1, 6, 7, 0), Session::Tokyo, Close),
        ]
    );
}

#[test]
fn configuration_problems_are_named() {
    assert_eq!(SessionClockConfig::default().problems(), vec![]);
    let config = SessionClockConfig {
        london: Some(SessionSpec {
            weekdays: vec!["Mon".into(), "Funday".into()],
            holidays: vec!["2026-13-01".into()],
            ..SessionSpec::weekdays("Europe/Londres", "8am", "16:30")
        }),
        new_york: Some(SessionSpec { weekdays: vec![], ..SessionSpec::weekdays("America/New_York", "09:30", "09:30") }),
        tokyo: None,
        sydney: None,
    };
    let fields: Vec<String> = config.problems().into_iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [
            "session_clock.london.zone",
            "session_clock.london.open",
            "session_clock.london.weekdays[1]",
            "session_clock.london.holidays[0]",
            "session_clock.new_york.close",
            "session_clock.new_york.weekdays",
        ]
    );
    // The section sits in agent_config with its defaults; null switches a session off.
    let parsed: AgentConfig = serde_json::from_str(r#"{"session_clock": {"tokyo": null}}"#).expect("parses");
    assert!(parsed.session_clock.tokyo.is_none() && parsed.session_clock.london == SessionClockConfig::default().london);
    assert_eq!(Calendar::new(&parsed.session_clock).expect("compiles").sessions(), [Session::London, Session::NewYork, Session::Sydney]);
}

#[test]
fn ranges_too_long_or_out_of_range_are_refused() {
    let c = default_calendar();
    let from = utc(2026, 1, 1, 0, 0);
    assert_eq!(c.events_between(from, EventTime::from_micros(from.as_micros() + 401 * DAY_US)), Err(CalendarError::TooLong { days: 401 }));
    assert!(matches!(c.events_between(EventTime::from_micros(i64::MAX - 10), EventTime::from_micros(i64::MAX)), Err(CalendarError::OutOfRange(_))));
    assert_eq!(c.events_between(from, from), Ok(vec![]));
}

#[test]
fn views_show_open_sessions_and_the_calendar_with_local_times() {
    let calendar = views::calendar(&SessionClockConfig::default(), utc(2026, 3, 30, 0, 0), utc(2026, 3, 30, 8, 0)).expect("view");
    let locals: Vec<(&str, &str)> = calendar.events.iter().map(|e| (e.session.as_str(), e.local.as_str())).collect();
    assert_eq!(
        locals,
        [
            ("TOKYO", "2026-03-30T09:00:00+09:00"),
            ("SYDNEY", "2026-03-30T16:00:00+11:00"),
            ("TOKYO", "2026-03-30T15:00:00+09:00"),
            ("LONDON", "2026-03-30T08:00:00+01:00"),
        ]
    );
    let state = SessionClockState {
        watermark: Some(utc(2026, 3, 30, 12, 0)),
        last: None,
        quiet_until: None,
        open: vec![OpenSession { session: Session::London, start_ts: utc(2026, 3, 30, 7, 0), end_ts: utc(2026, 3, 30, 15, 30) }],
    };
    assert_eq!(views::now(&state, utc(2026, 3, 30, 12, 0)).open.len(), 1);
    assert!(views::now(&state, utc(2026, 3, 30, 15, 30)).open.is_empty(), "closed at its end");
}

fn clock() -> SessionClock {
    SessionClock::new(&SessionClockConfig::default()).expect("defaults compile")
}

fn sessions_of(outputs: Vec<BusEvent>) -> Vec<SessionEvent> {
    outputs
        .into_iter()
        .map(|e| match e {
            BusEvent::SessionEvent(s) => s,
            other => panic!("unexpected output {other:?}"),
        })
        .collect()
}

#[test]
fn ticks_drive_the_clock_and_each_boundary_carries_its_own_time_and_id() {
    let mut clock = clock();
    // First tick Monday 30 March 2026 10:00 UTC: London is open (since 07:00 UTC), nothing emitted.
    let first = utc(2026, 3, 30, 10, 0).as_micros();
    assert!(accept(&mut clock, &tick(first, "BTCUSD", "100", None)).is_empty());
    assert_eq!(clock.state().open.iter().map(|o| o.session).collect::<Vec<_>>(), [Session::London]);
    // Next tick at 14:00: New York opened at 13:30.
    let emitted = sessions_of(accept(&mut clock, &tick(utc(2026, 3, 30, 14, 0).as_micros(), "BTCUSD", "100", None)));
    assert_eq!(emitted.len(), 1);
    let ny = &emitted[0];
    assert_eq!((ny.session, ny.event, ny.event_time), (Session::NewYork, SessionEventKind::Open, utc(2026, 3, 30, 13, 30)));
    assert_eq!((ny.start_ts, ny.end_ts), (utc(2026, 3, 30, 13, 30), utc(2026, 3, 30, 20, 0)));
    let boundary = Boundary { time: ny.event_time, session: ny.session, event: ny.event, start_ts: ny.start_ts, end_ts: ny.end_ts };
    assert_eq!(ny.event_id, boundary_id(&boundary));
    assert_eq!(clock.state().last, Some(boundary));
    // A late tick from another symbol emits nothing; a tick over the weekend catches up in order.
    assert!(accept(&mut clock, &tick(utc(2026, 3, 30, 13, 0).as_micros(), "ETHUSD", "1", None)).is_empty());
    let caught_up = sessions_of(accept(&mut clock, &tick(utc(2026, 3, 31, 7, 0).as_micros(), "BTCUSD", "100", None)));
    let order: Vec<(&str, SessionEventKind)> = caught_up.iter().map(|s| (s.session.as_str(), s.event)).collect();
    use SessionEventKind::{Close, Open};
    assert_eq!(
        order,
        [("LONDON", Close), ("NEW_YORK", Close), ("SYDNEY", Open), ("TOKYO", Open), ("SYDNEY", Close), ("TOKYO", Close), ("LONDON", Open)],
        "through 31 March 07:00 UTC (Sydney's Tuesday opens on Monday in UTC), the London open included"
    );
    assert!(caught_up.windows(2).all(|w| w[0].event_time <= w[1].event_time));
    assert_eq!(clock.state().open.iter().map(|o| o.session).collect::<Vec<_>>(), [Session::London]);
}

#[test]
fn a_tick_exactly_on_a_boundary_emits_it_once() {
    let mut clock = clock();
    let open = utc(2026, 3, 30, 7, 0).as_micros();
    let emitted = sessions_of(accept(&mut clock, &tick(open, "BTCUSD", "100", None)));
    assert_eq!(emitted.iter().map(|s| (s.session, s.event)).collect::<Vec<_>>(), [(Session::London, SessionEventKind::Open)]);
    assert!(accept(&mut clock, &tick(open, "ETHUSD", "1", None)).is_empty(), "same time again");
    assert!(accept(&mut clock, &tick(open + 1, "ETHUSD", "1", None)).is_empty());
}

#[test]
fn other_inputs_are_ignored_and_reconfigure_swaps_the_calendar() {
    let mut clock = clock();
    let outputs = accept(&mut clock, &crate::portfolio::fixtures::pnl(utc(2026, 3, 30, 10, 0).as_micros(), "1"));
    assert!(outputs.is_empty() && clock.state().watermark.is_none());
    accept(&mut clock, &tick(utc(2026, 3, 30, 10, 0).as_micros(), "BTCUSD", "100", None));
    let mut config = AgentConfig::default();
    config.session_clock.london = None;
    clock.reconfigure(&config);
    assert!(clock.state().open.is_empty(), "London is no longer a session");
    let later = sessions_of(accept(&mut clock, &tick(utc(2026, 3, 30, 23, 0).as_micros(), "BTCUSD", "100", None)));
    assert!(later.iter().all(|s| s.session != Session::London));
    assert_eq!(later.iter().map(|s| s.session).collect::<Vec<_>>(), [Session::NewYork, Session::NewYork, Session::Sydney], "NY opens 13:30, closes 20:00; Sydney opens 23:00");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// However ticks are spaced — bunched, days apart, out of order, repeated — and
    /// wherever a snapshot is restored, the clock emits exactly the calendar's boundaries
    /// after its first tick, each once, in order.
    #[test]
    fn every_boundary_is_emitted_exactly_once_in_order(
        steps in proptest::collection::vec((0i64..3 * DAY_US, 0u8..10), 1..120),
        restore_at in 0usize..120,
    ) {
        // From Monday 23 March 2026, across London's spring change (29 March).
        let start = utc(2026, 3, 23, 0, 0).as_micros();
        let mut clock = clock();
        let mut emitted = Vec::new();
        let mut now = start;
        let mut latest = start;
        emitted.extend(sessions_of(accept(&mut clock, &tick(now, "BTCUSD", "1", None))));
        for (i, (step, kind)) in steps.iter().enumerate() {
            // Mostly short steps forward; sometimes a late tick of another symbol (back up
            // to 18 h) or a gap of up to 3 days.
            now = match kind {
                0 | 1 => now - step / 4,
                2 => now + step,
                _ => now + step / 8,
            };
            latest = latest.max(now);
            if i == restore_at {
                let state = clock.state().clone();
                clock = self::clock();
                clock.restore(state);
            }
            emitted.extend(sessions_of(accept(&mut clock, &tick(now, "BTCUSD", "1", None))));
        }
        let expected = default_calendar().events_between(EventTime::from_micros(start), EventTime::from_micros(latest + 1)).expect("range");
        let got: Vec<Boundary> = emitted.iter().map(|s| Boundary { time: s.event_time, session: s.session, event: s.event, start_ts: s.start_ts, end_ts: s.end_ts }).collect();
        prop_assert_eq!(&got, &expected);
        let mut ids: Vec<String> = emitted.iter().map(|s| s.event_id.to_string()).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), emitted.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The clock changes its state in place on its fast paths: a tick it refuses — a time the
    /// calendar cannot represent, or one whose look-ahead runs past the calendar's range after
    /// the boundaries were found — must leave `state()` as it was and leave no trace.
    #[test]
    fn a_refused_tick_leaves_the_state_as_it_was(steps in proptest::collection::vec((0i64..2 * DAY_US, 0u8..12), 1..60)) {
        let start = utc(2026, 3, 23, 0, 0).as_micros();
        let edge = utc(9999, 12, 24, 0, 0).as_micros();
        let mut now = start;
        let inputs: Vec<BusEvent> = steps
            .iter()
            .map(|(step, kind)| {
                let time = match kind {
                    0 => i64::MAX - step,
                    1 => edge + step,
                    2 => now - step / 4,
                    _ => {
                        now += step / 6;
                        now
                    }
                };
                tick(time, "BTCUSD", "1", None)
            })
            .collect();
        refusals_leave_no_trace(clock, &inputs)?;
    }
}

#[test]
fn a_tick_past_the_calendar_range_is_refused_and_changes_nothing() {
    let mut clock = clock();
    accept(&mut clock, &tick(utc(2026, 3, 23, 0, 0).as_micros(), "BTCUSD", "1", None));
    let before = clock.state().clone();
    for time in [i64::MAX - 1, utc(9999, 12, 30, 0, 0).as_micros()] {
        assert!(crate::portfolio::fixtures::run(&mut clock, &tick(time, "BTCUSD", "1", None)).is_err(), "{time} should be refused");
        assert_eq!(clock.state(), &before);
    }
}
